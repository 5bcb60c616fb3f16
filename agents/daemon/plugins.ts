import type { DaemonPlugin } from './agent-daemon';

/**
 * Domains that plug methods into the daemon. Add one line per domain (deploy, logs, bench, probe):
 * each module exports a DaemonPlugin that registers its handlers on api.registry. Loaded lazily so
 * `attach`, which shares the bundle, never evaluates them.
 */
export const daemonPlugins: Array<{ name: string; load: () => Promise<DaemonPlugin> }> = [
  { name: 'host', load: async () => (await import('../host/host-plugin')).hostPlugin },
  { name: 'supervisor', load: async () => (await import('../supervisor/supervisor-plugin')).supervisorPlugin },
  { name: 'bench', load: async () => (await import('../bench/bench-plugin')).benchPlugin },
  { name: 'probe', load: async () => (await import('../probe/probe-plugin')).probePlugin },
];
