import { createController, type ControllerOptions } from '../control/controller';
import { ensureAgentArtifacts } from './agent-artifacts';
import { serveApi, type ServeHandle } from './serve-server';

export interface StartServeOptions {
  /** HANDOFF_HOME: where hosts.json, known_hosts and runs live. */
  home: string;
  port?: number;
  /** Only loopback is ever bound; the field exists to make that explicit at call sites. */
  host?: '127.0.0.1';
  /** Built renderer folder; defaults to dist/renderer of this checkout. */
  staticDir?: string;
  /** For tests: isolate the controller from the user's SSH files and agent home. */
  controller?: Partial<Pick<ControllerOptions, 'artifacts' | 'localAgentHome' | 'ssh'>>;
}

/**
 * Browser mode: the real controller behind the built renderer, on 127.0.0.1 with a fresh random
 * token. Closing stops the server first (no new calls), then the controller.
 */
export async function startServe(opts: StartServeOptions): Promise<ServeHandle> {
  const artifacts = opts.controller?.artifacts ?? (await ensureAgentArtifacts());
  const controller = await createController({ home: opts.home, mode: 'browser', ...opts.controller, artifacts });
  let handle: ServeHandle;
  try {
    handle = await serveApi(controller, {
      ...(opts.port !== undefined ? { port: opts.port } : {}),
      ...(opts.staticDir !== undefined ? { staticDir: opts.staticDir } : {}),
    });
  } catch (err) {
    await controller.close();
    throw err;
  }
  return {
    ...handle,
    close: async () => {
      await handle.close();
      await controller.close();
    },
  };
}
