import { AGENT_PROTOCOL_VERSION } from '../../common/agent-rpc';
import { UserFacingError } from '../../common/errors';
import type { DaemonApi } from './agent-daemon';

/** agent.hello / ping / stats / shutdown: the daemon's own methods. */
export function registerCoreHandlers(api: DaemonApi, agentVersion: string): void {
  const uptimeS = () => Math.round((Date.now() - api.startedAt.getTime()) / 100) / 10;

  api.registry.handle(
    'agent.hello',
    (params) => {
      if (params.protocol !== AGENT_PROTOCOL_VERSION) {
        const appNewer = params.protocol > AGENT_PROTOCOL_VERSION;
        throw new UserFacingError(
          'protocol-mismatch',
          `The agent on this host (version ${agentVersion}, protocol ${AGENT_PROTOCOL_VERSION}) does not speak the app's protocol ${params.protocol} (app ${params.clientVersion}). ` +
            (appNewer
              ? 'Update the agent: "handoff hosts check" stops the old agent and installs the one matching the app.'
              : 'The app is older than the agent: update the app to Handoff ' + agentVersion + ' or newer.'),
          { agentProtocol: AGENT_PROTOCOL_VERSION, agentVersion, pid: process.pid },
        );
      }
      return { protocol: AGENT_PROTOCOL_VERSION, agentVersion, pid: process.pid, startedAt: api.startedAt.toISOString(), home: api.layout.home };
    },
    { beforeHello: true },
  );

  api.registry.handle('agent.ping', () => ({ pong: true as const, uptimeS: uptimeS() }));

  api.registry.handle('agent.stats', () => ({ rssBytes: process.memoryUsage.rss(), clients: api.clientCount(), uptimeS: uptimeS() }));

  // Allowed before the handshake: an app whose protocol the old agent does not speak must still be able to stop it.
  api.registry.handle(
    'agent.shutdown',
    (_params, ctx) => {
      ctx.log.info('shutdown requested over RPC');
      // After the reply has been written, so the caller learns it succeeded.
      setTimeout(() => void api.shutdown('agent.shutdown'), 20);
      return { ok: true as const };
    },
    { beforeHello: true },
  );
}
