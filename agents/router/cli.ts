import { Command, CommanderError } from 'commander';
import { UserFacingError } from '../../common/errors';
import { createJsonLog } from './json-log';
import type { RouterOptionsInput } from './router-options';
import { startRouter } from './router-server';

/**
 * `handoff-agent router …`: the OpenAI-compatible endpoint of a deployment. Runs until SIGTERM or
 * SIGINT, then closes connections and flushes the trace file.
 */
export async function runRouterCli(argv: string[]): Promise<number> {
  let input: RouterOptionsInput;
  try {
    input = parseRouterArgs(argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    process.stderr.write(`handoff-agent router: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const log = createJsonLog(input.logLevel ?? 'info', 'router');
  let router;
  try {
    router = await startRouter(input, log);
  } catch (err) {
    const msg = err instanceof UserFacingError ? err.message : err instanceof Error ? `could not start: ${err.message}` : String(err);
    log.log('error', msg);
    return err instanceof UserFacingError ? 2 : 1;
  }
  const handle = router;
  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      log.log('info', 'router stopping', { signal });
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      handle.close().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

const repeat = (value: string, previous: string[]): string[] => [...previous, value];

function integer(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new UserFacingError('invalid-router-options', `${flag} expects a non-negative integer, got "${value}".`);
    return Number(value);
  };
}

/** Flags → router options (validated later by RouterOptions, which gives the user-facing messages). */
export function parseRouterArgs(argv: string[]): RouterOptionsInput {
  const cmd = new Command('handoff-agent router')
    .description('OpenAI-compatible router of a deployment: aggregated load balancing or vLLM prefill/decode disaggregation')
    .requiredOption('--port <n>', 'port to listen on (0 = any free port)', integer('--port'))
    .option('--host <addr>', 'address to bind', '127.0.0.1')
    .requiredOption('--mode <mode>', 'aggregated | disaggregated')
    .option('--worker <url>', 'aggregated worker base URL (repeatable)', repeat, [])
    .option('--prefill <url>', 'prefill worker base URL (repeatable)', repeat, [])
    .option('--decode <url>', 'decode worker base URL (repeatable)', repeat, [])
    .option('--remote-prefill-min-tokens <n>', 'prompts with fewer tokens are prefilled on the decode worker (0 = always remote)', integer('--remote-prefill-min-tokens'), 0)
    .option('--prefill-queue-limit <n>', 'prefill on the decode worker when every prefill worker has more than N outstanding', integer('--prefill-queue-limit'))
    .option('--trace-file <path>', 'append one JSON trace record per request to this file')
    .option('--model <name>', 'served model name; requests for another model get 404')
    .option('--log-level <level>', 'debug | info | warn | error', 'info')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) })
    .allowExcessArguments(false);
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<{
    port: number;
    host: string;
    mode: string;
    worker: string[];
    prefill: string[];
    decode: string[];
    remotePrefillMinTokens: number;
    prefillQueueLimit?: number;
    traceFile?: string;
    model?: string;
    logLevel: string;
  }>();
  const mode = o.mode === 'aggregated' || o.mode === 'disaggregated' ? o.mode : undefined;
  if (!mode) throw new UserFacingError('invalid-router-options', `--mode must be aggregated or disaggregated, got "${o.mode}".`);
  const logLevel = (['debug', 'info', 'warn', 'error'] as const).find((l) => l === o.logLevel);
  if (!logLevel) throw new UserFacingError('invalid-router-options', `--log-level must be debug, info, warn or error, got "${o.logLevel}".`);
  return {
    port: o.port,
    host: o.host,
    mode,
    workers: o.worker,
    prefill: o.prefill,
    decode: o.decode,
    remotePrefillMinTokens: o.remotePrefillMinTokens,
    prefillQueueLimit: o.prefillQueueLimit ?? null,
    traceFile: o.traceFile ?? null,
    model: o.model ?? null,
    logLevel,
  };
}
