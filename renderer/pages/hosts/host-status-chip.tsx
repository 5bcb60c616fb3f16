import type { HostState } from '../../../common/host';
import { hostStateLook } from './host-state';

export function HostStatusChip({ state, testId }: { state: HostState; testId?: string }) {
  const look = hostStateLook(state);
  return (
    <span className={`chip chip-${look.tone}`} data-testid={testId} data-state={state}>
      <span className="chip-dot" aria-hidden="true" />
      {look.label}
    </span>
  );
}
