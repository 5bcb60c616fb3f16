import { UserFacingError } from '../../common/errors';
import { parseSshTarget, type SshTarget } from '../../common/host';

export function parseTargetOption(value: string, flag: string): SshTarget {
  const t = parseSshTarget(value);
  if (!t) throw new UserFacingError('usage', `${flag} expects USER@HOST[:PORT], got "${value}".`);
  return t;
}
