/**
 * Runs fake-vllm.ts as its own process: `tsx agents/router/fake-vllm-main.ts '<options JSON>'`.
 * Prints `listening <url>` on stdout once it accepts connections; exits on SIGTERM/SIGINT.
 */
import { startFakeVllm, type FakeVllmOptions } from './fake-vllm';

const options = JSON.parse(process.argv[2] ?? '{}') as FakeVllmOptions;
const fake = await startFakeVllm({ record: false, ...options });
process.stdout.write(`listening ${fake.url}\n`);
const stop = (): void => {
  void fake.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
