/**
 * `handoff` CLI: the same controller as the desktop app, driven from a terminal.
 * Exit codes: 0 ok, 1 the action failed (message says what to do), 2 usage error.
 */
import { Command, CommanderError } from 'commander';
import { UserFacingError } from '../../common/errors';
import { HANDOFF_VERSION } from '../../common/version';
import { registerHostCommands } from './hosts-commands';
import { registerDeployCommands } from './deploy-commands';
import { registerServeCommand } from './serve-command';
import { registerBenchCommands } from './bench-commands';
import { registerChatCommand } from './chat-command';
import { registerReportCommands } from './report-commands';
import { registerProbeCommand } from './probe-command';

export function buildProgram(): Command {
  const program = new Command('handoff')
    .description('Deploy, chat with and benchmark disaggregated LLM serving on GPU hosts over SSH.')
    .version(HANDOFF_VERSION)
    .exitOverride()
    .showHelpAfterError('(run "handoff --help" for usage)');
  registerHostCommands(program);
  registerDeployCommands(program);
  registerBenchCommands(program);
  registerServeCommand(program);
  registerChatCommand(program);
  registerReportCommands(program);
  registerProbeCommand(program);
  return program;
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof UserFacingError) {
      process.stderr.write(`handoff: ${err.message}\n`);
      return err.code === 'usage' ? 2 : 1;
    }
    process.stderr.write(`handoff: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

const isEntry = process.argv[1] !== undefined && /electron[/\\]cli[/\\]main\.[cm]?[jt]s$|handoff(\.mjs)?$/.test(process.argv[1]);
if (isEntry) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
