/**
 * `handoff-agent mocker <vllm serve arguments>`: a simulated vLLM server (docs/mocker.md).
 * Runs until SIGINT/SIGTERM; exits 1 with a clear message when the configuration is impossible.
 */
import { UserFacingError } from '../../common/errors';
import { startMocker } from './mocker';

export async function runMockerCli(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(
      'usage: mocker MODEL [vllm serve flags] [--mocker-* flags]\n' +
        'A simulated vLLM engine (no GPU). See docs/mocker.md for the flags it understands and its latency model.\n',
    );
    return 0;
  }
  let mocker;
  try {
    mocker = await startMocker({ argv });
  } catch (err) {
    const msg = err instanceof UserFacingError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`mocker: ${msg}\n`);
    return 1;
  }
  const running = mocker;
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void running.close().then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}
