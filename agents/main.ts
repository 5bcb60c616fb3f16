/**
 * `handoff-agent` entry: one bundled file, several subcommands. Each subcommand module is loaded
 * lazily so `attach` (started on every SSH exec) stays fast.
 *   daemon   the per-host, per-user supervisor (unix socket, survives SSH drops)
 *   attach   bridges stdio (the SSH exec channel) to the daemon, starting it if needed
 *   mocker   simulated vLLM engine
 *   router   OpenAI-compatible P/D router of a deployment
 *   version  prints the agent version
 */
import { HANDOFF_VERSION } from '../common/version';

type Subcommand = (argv: string[]) => Promise<number | void>;

const subcommands: Record<string, () => Promise<Subcommand>> = {
  daemon: async () => (await import('./daemon/daemon-cli')).runDaemonCli,
  attach: async () => (await import('./daemon/attach')).runAttachCli,
  mocker: async () => (await import('./mocker/cli')).runMockerCli,
  router: async () => (await import('./router/cli')).runRouterCli,
  version: async () => async () => {
    process.stdout.write(HANDOFF_VERSION + '\n');
  },
};

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  const load = name ? subcommands[name] : undefined;
  if (!load) {
    process.stderr.write(`usage: handoff-agent <${Object.keys(subcommands).join('|')}> [args]\n`);
    process.exitCode = 2;
    return;
  }
  const run = await load();
  const code = await run(rest);
  if (typeof code === 'number') process.exitCode = code;
}

main().catch((err: unknown) => {
  process.stderr.write(`handoff-agent: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
