import { HANDOFF_VERSION } from '../../common/version';
import type { DaemonPlugin } from '../daemon/agent-daemon';
import { collectHostInfo, HostInfoCache } from './host-info';

/** Registers host.info on the daemon. */
export const hostPlugin: DaemonPlugin = (api) => {
  const log = api.log.child({ domain: 'host' });
  const cache = new HostInfoCache(() =>
    collectHostInfo({
      agentVersion: HANDOFF_VERSION,
      onPythonFailures: (failures) => log.warn('some python interpreters could not be probed', { failures }),
    }),
  );
  api.registry.handle('host.info', (params) => cache.get(params?.refresh ?? false));
};
