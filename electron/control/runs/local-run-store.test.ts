import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LocalRunStore, parseJsonl } from './local-run-store';

let home: string;
let store: LocalRunStore;
beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'run-store-'));
  store = new LocalRunStore(home);
});
afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

const RUN_JSON = {
  schema: 1, id: 'run-1', status: 'complete', simulated: false, imported: true, tool: { name: 'aiperf', version: null }, versions: {},
  deployment: null, hosts: [], timings: { createdAt: '2026-01-01T00:00:00Z', startedAt: null, finishedAt: null, originEpochNs: null }, workload: {},
};

describe('LocalRunStore', () => {
  it('shows a run only once it is committed: the temporary directory is invisible until the rename', async () => {
    const w = await store.begin('run-1');
    await w.write('run.json', JSON.stringify(RUN_JSON));
    await w.write('artifacts/sub/x.csv', 'Metric,avg\n');
    expect(await store.ids()).toEqual([]);
    await w.commit();
    expect(await store.ids()).toEqual(['run-1']);
    expect((await store.read('run-1')).run?.id).toBe('run-1');
    expect((await store.manifest('run-1')).map((f) => f.path)).toEqual(['artifacts/sub/x.csv', 'run.json']);
  });

  it('refuses paths that leave the run directory', async () => {
    const w = await store.begin('run-1');
    for (const bad of ['../escape', '/etc/passwd', '..', 'a/../../b']) await expect(w.write(bad, 'x'), bad).rejects.toThrow(/not a path inside a run directory/);
    await w.abort();
  });

  it('keeps the first copy when a run id is committed twice', async () => {
    const a = await store.begin('run-1');
    await a.write('run.json', JSON.stringify(RUN_JSON));
    const b = await store.begin('run-1');
    await b.write('run.json', JSON.stringify({ ...RUN_JSON, status: 'partial' }));
    await a.commit();
    await expect(b.commit()).rejects.toMatchObject({ code: 'run-exists' });
    expect((await store.read('run-1')).run?.status).toBe('complete');
    expect(fs.readdirSync(store.root).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
  });

  it('reports a run directory without a valid run.json as a problem, not as a run', async () => {
    fs.mkdirSync(path.join(store.root, 'run-2'), { recursive: true });
    expect((await store.read('run-2')).problem).toMatch(/run\.json is missing/);
    fs.writeFileSync(path.join(store.root, 'run-2', 'run.json'), '{"schema": 1, "id": "run-2"');
    expect((await store.read('run-2')).problem).toMatch(/not valid JSON/);
    fs.writeFileSync(path.join(store.root, 'run-2', 'run.json'), '{"schema": 1, "id": "run-2"}');
    expect((await store.read('run-2')).problem).toMatch(/status/);
  });

  it('removes half-written runs of processes that are gone, and leaves its own', async () => {
    const mine = await store.begin('run-3');
    fs.mkdirSync(path.join(store.root, '.tmp-run-4-999999999-0badf00d'));
    expect(await store.cleanupTemporary()).toEqual(['.tmp-run-4-999999999-0badf00d']);
    expect(fs.existsSync(mine.tmpDir)).toBe(true);
    await mine.abort();
  });

  it('deletes by renaming away first, and says so when there is no such run', async () => {
    const w = await store.begin('run-1');
    await w.write('run.json', JSON.stringify(RUN_JSON));
    await w.commit();
    await store.remove('run-1');
    expect(await store.ids()).toEqual([]);
    await expect(store.remove('run-1')).rejects.toMatchObject({ code: 'unknown-run' });
  });
});

describe('parseJsonl', () => {
  const Schema = z.object({ n: z.number() });
  it('names the line that is not JSON or not the schema', () => {
    expect(parseJsonl('{"n":1}\n\n{"n":2}\n', Schema, 'f.jsonl')).toEqual([{ n: 1 }, { n: 2 }]);
    expect(() => parseJsonl('{"n":1}\n{"n":', Schema, 'f.jsonl')).toThrow(/f\.jsonl:2 is not valid JSON/);
    expect(() => parseJsonl('{"n":1}\n{"n":"x"}\n', Schema, 'f.jsonl')).toThrow(/f\.jsonl:2: n:/);
  });
});
