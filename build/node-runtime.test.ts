import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { buildNodeRuntime, nodeRuntimeVersion } from './node-runtime';

const run = promisify(execFile);

describe('node runtime tarball', () => {
  it(
    'packs a stripped x64 node as node/bin/node plus its LICENSE, which runs after unpacking, and is reused by a second build',
    async () => {
      const version = await nodeRuntimeVersion();
      const tarball = await buildNodeRuntime('x64');
      expect(path.basename(tarball)).toBe(`node-v${version}-linux-x64.tar.xz`);
      const { stdout: listing } = await run('tar', ['-tJf', tarball]);
      expect(listing.split('\n').filter(Boolean).sort()).toEqual(['node/', 'node/LICENSE', 'node/bin/', 'node/bin/node']);
      const { size } = await fs.stat(tarball);
      expect(size).toBeLessThan(40 * 1024 * 1024);

      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hoa-runtime-'));
      try {
        await run('tar', ['-xJf', tarball, '-C', dir]);
        const { stdout } = await run(path.join(dir, 'node', 'bin', 'node'), ['--version']);
        expect(stdout.trim()).toBe(`v${version}`);
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }

      const mtime = (await fs.stat(tarball)).mtimeMs;
      expect(await buildNodeRuntime('x64')).toBe(tarball);
      expect((await fs.stat(tarball)).mtimeMs).toBe(mtime);
    },
    600_000,
  );

  it('refuses an architecture it has no runtime for, saying which are supported', async () => {
    await expect(buildNodeRuntime('riscv64' as 'x64')).rejects.toThrow(/supports x64 and arm64/);
  });
});
