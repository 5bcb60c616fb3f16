import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readBundleFiles, readBundleManifest, writeBundle } from './report-bundle';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bundle-test-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('report bundle archive', () => {
  it('writes a .tar.gz under handoff-bundle/ and reads the same bytes back', async () => {
    const out = path.join(dir, 'b.tar.gz');
    const bin = Buffer.from([0, 1, 2, 255]);
    await writeBundle(out, [{ path: 'report.html', data: '<html></html>' }, { path: 'runs/r1/run.json', data: '{}' }, { path: 'runs/r1/artifacts/x.bin', data: bin }]);
    const files = await readBundleFiles(out);
    expect([...files.keys()].sort()).toEqual(['report.html', 'runs/r1/artifacts/x.bin', 'runs/r1/run.json']);
    expect(files.get('runs/r1/artifacts/x.bin')).toEqual(bin);
    expect((await fs.readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses entry paths that would leave the bundle folder', async () => {
    await expect(writeBundle(path.join(dir, 'x.tar.gz'), [{ path: '../evil', data: 'x' }])).rejects.toThrow(/cannot be a path inside a bundle/);
    await expect(fs.access(path.join(dir, 'x.tar.gz'))).rejects.toThrow();
  });

  it('explains a missing file, a file that is not a bundle, and a bundle without a manifest', async () => {
    await expect(readBundleManifest(path.join(dir, 'nope.tar.gz'))).rejects.toThrow(/There is no file/);
    await fs.writeFile(path.join(dir, 'junk.tar.gz'), 'not gzip at all');
    await expect(readBundleManifest(path.join(dir, 'junk.tar.gz'))).rejects.toThrow(/not a readable \.tar\.gz bundle|no handoff-bundle\/manifest\.json/);
    const out = path.join(dir, 'nomanifest.tar.gz');
    await writeBundle(out, [{ path: 'report.html', data: 'x' }]);
    await expect(readBundleManifest(out)).rejects.toThrow(/no handoff-bundle\/manifest\.json/);
  });

  it('names the field when a manifest does not match the schema', async () => {
    const out = path.join(dir, 'bad.tar.gz');
    await writeBundle(out, [{ path: 'manifest.json', data: JSON.stringify({ schema: 'handoff-bundle/v1', runs: [] }) }]);
    await expect(readBundleManifest(out)).rejects.toThrow(/manifest\.json/);
    await fs.writeFile(path.join(dir, 'manifest.json'), '{"schema": ');
    await expect(readBundleManifest(path.join(dir, 'manifest.json'))).rejects.toThrow(/not valid JSON/);
  });
});
