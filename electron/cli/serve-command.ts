import type { Command } from 'commander';
import { UserFacingError } from '../../common/errors';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Serve the Handoff UI to your browser on 127.0.0.1 (random token in the URL)')
    .option('--port <n>', 'port (default: a free one)')
    .action(async (opts: { port?: string }) => {
      const port = opts.port === undefined ? undefined : Number(opts.port);
      if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new UserFacingError('usage', `--port expects a port number, got "${opts.port}".`);
      const { runServe } = await import('./serve-run');
      await runServe(port === undefined ? {} : { port });
    });
}
