import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { HANDOFF_VERSION } from '../../common/version';
import { UserFacingError } from '../../common/errors';
import { agentLayout } from '../../common/agent-layout';
import { createLogger, errorFields, fileLogSink, parseLogLevel } from '../rpc/agent-logger';
import { AgentDaemon, AlreadyRunningError, type DaemonPlugin } from './agent-daemon';
import { resolveAgentHome } from './agent-home';
import { pidAlive } from './start-lock';
import { registerCoreHandlers } from './core-handlers';
import { daemonPlugins } from './plugins';

/** Exit code when another daemon already serves the socket; attach treats it as "connect to that one". */
export const EXIT_ALREADY_RUNNING = 3;

const LOG_ROTATE_BYTES = 10 * 1024 * 1024;

/**
 * `handoff-agent daemon [--home DIR] [--log-level debug|info|warn|error]`
 * Usually started by `attach`, detached, with stdout/stderr appended to agent.log.
 */
export async function runDaemonCli(argv: string[]): Promise<number> {
  let values: { home?: string; 'log-level'?: string };
  try {
    ({ values } = parseArgs({ args: argv, options: { home: { type: 'string' }, 'log-level': { type: 'string' } }, strict: true, allowPositionals: false }));
  } catch (err) {
    process.stderr.write(`handoff-agent daemon: ${err instanceof Error ? err.message : String(err)}\nusage: handoff-agent daemon [--home DIR] [--log-level debug|info|warn|error]\n`);
    return 2;
  }
  const home = values.home ?? resolveAgentHome();
  const layout = agentLayout(home, HANDOFF_VERSION);
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  rotateLog(layout.daemonLog, layout.pidFile);
  const file = fileLogSink(layout.daemonLog);
  const log = createLogger(file.sink, parseLogLevel(values['log-level'] ?? process.env.HANDOFF_AGENT_LOG_LEVEL), { pid: process.pid });

  // The daemon supervises deployments: a bug in one handler must not orphan them, so it logs and carries on.
  process.on('uncaughtException', (err) => log.error('uncaught exception', errorFields(err)));
  process.on('unhandledRejection', (err) => log.error('unhandled rejection', errorFields(err)));
  // Started from a terminal or an SSH session, the daemon must outlive it.
  process.on('SIGHUP', () => log.info('ignoring SIGHUP'));

  // Installed before the socket opens: a SIGTERM that lands while startup finishes must still stop the daemon cleanly.
  let daemon: AgentDaemon | null = null;
  let stopSignal: NodeJS.Signals | null = null;
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      if (daemon) void daemon.shutdown(sig);
      else stopSignal = sig;
    });
  }

  try {
    const plugins: DaemonPlugin[] = [(api) => registerCoreHandlers(api, HANDOFF_VERSION)];
    for (const p of daemonPlugins) plugins.push(await p.load());
    daemon = await AgentDaemon.start({ home, version: HANDOFF_VERSION, log, plugins });
  } catch (err) {
    if (err instanceof AlreadyRunningError) {
      log.info(err.message);
      file.close();
      return EXIT_ALREADY_RUNNING;
    }
    log.error('agent daemon failed to start', errorFields(err));
    process.stderr.write(`handoff-agent daemon: ${err instanceof Error ? err.message : String(err)}\n`);
    file.close();
    return err instanceof UserFacingError ? 1 : 70;
  }
  process.title = 'handoff-agent-daemon';
  if (process.stderr.isTTY) process.stderr.write(`handoff-agent daemon ${HANDOFF_VERSION} listening on ${layout.socket} (log: ${layout.daemonLog})\n`);
  if (stopSignal) void daemon.shutdown(stopSignal);
  await daemon.done;
  file.close();
  return 0;
}

/** Only when no daemon is running: a live one keeps writing to its open file, whatever its name. */
function rotateLog(path: string, pidFile: string): void {
  try {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pidAlive(pid)) return;
  } catch {
    // No pid file: no daemon.
  }
  try {
    if (fs.statSync(path).size > LOG_ROTATE_BYTES) fs.renameSync(path, `${path}.1`);
  } catch {
    // No log yet.
  }
}
