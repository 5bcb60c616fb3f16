import { resolveHandoffHome } from '../control/storage/app-home';
import { createController } from '../control/controller';
import { ensureAgentArtifacts } from './agent-artifacts';
import { serveApi } from './serve-server';

/** `handoff serve`: the real controller behind the browser UI, until Ctrl-C. */
export async function runServe(opts: { port?: number }): Promise<void> {
  const home = resolveHandoffHome();
  const controller = await createController({ home, mode: 'browser', artifacts: await ensureAgentArtifacts() });
  const handle = await serveApi(controller, opts.port === undefined ? {} : { port: opts.port });
  process.stdout.write(`Handoff is serving on 127.0.0.1 only. Open:\n  ${handle.url}\n(state in ${home}; Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await handle.close();
  await controller.close();
}
