import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeRequestColumns } from '../../../common/run-series';
import type { RunDetail } from '../../../common/run-view';
import { LocalRunStore, RUN_FILES } from './local-run-store';
import { RunSeriesSource, SERIES_CACHE_FILE } from './run-series-source';

let home: string;
let store: LocalRunStore;

beforeEach(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'handoff-series-'));
  store = new LocalRunStore(home);
});
afterEach(async () => {
  await fs.rm(home, { recursive: true, force: true });
});

const line = (sendMs: number, ttftMs: number) =>
  JSON.stringify({ sendNs: sendMs * 1e6, firstTokenNs: (sendMs + ttftMs) * 1e6, lastTokenNs: (sendMs + 100) * 1e6, inputTokens: 10, outputTokens: { usage: 5, chunks: 5 }, error: null });

async function storeRun(id: string, requests: string, opts: { simulated?: boolean; kv?: unknown[] } = {}): Promise<RunDetail> {
  const w = await store.begin(id);
  await w.write(RUN_FILES.runJson, '{}');
  await w.write(RUN_FILES.requests, requests);
  await w.write(RUN_FILES.samples, JSON.stringify({ kind: 'prometheus', tMs: 1000, source: 'decode-0', values: { 'vllm:num_requests_running': 2 } }) + '\n');
  await w.commit();
  return {
    summary: { id, location: 'local' },
    run: { workload: { streaming: true }, simulated: opts.simulated ?? false, spec: { mocker: {} } },
    kvTransfer: opts.kv ?? [],
    dir: store.dir(id),
  } as unknown as RunDetail;
}

describe('run series source', () => {
  it('computes chart data once, keeps it beside the records, and reads it back in a new controller', async () => {
    const detail = await storeRun('r1', [line(0, 10), line(50, 20)].join('\n') + '\n');
    const first = await new RunSeriesSource(store).series(detail);
    expect(first.requests?.ttftMs).toEqual([10, 20]);
    expect(first.timeSeries[0]?.lines[0]?.v).toEqual([2]);
    const cache = JSON.parse(await fs.readFile(path.join(store.dir('r1'), SERIES_CACHE_FILE), 'utf8')) as { key: string };
    expect(cache.key).toMatch(/^r1:/);

    // A fresh source (another controller) reads series.json, not requests.jsonl.
    const counting = new LocalRunStore(home);
    const reads: string[] = [];
    const readJsonl = counting.readJsonl.bind(counting);
    counting.readJsonl = ((id: string, rel: string, schema: never) => {
      reads.push(rel);
      return readJsonl(id, rel, schema);
    }) as typeof counting.readJsonl;
    const again = await new RunSeriesSource(counting).packed(detail);
    expect(reads).toEqual([]);
    expect(Array.from(decodeRequestColumns(again.requests!).ttftMs)).toEqual([10, 20]);
  });

  it('recomputes when the records change, and names the bad line when they cannot be read', async () => {
    const detail = await storeRun('r2', line(0, 10) + '\n');
    const src = new RunSeriesSource(store);
    expect((await src.series(detail)).requests?.count).toBe(1);
    const req = path.join(store.dir('r2'), RUN_FILES.requests);
    await fs.writeFile(req, [line(0, 10), line(5, 30)].join('\n') + '\n');
    const later = new Date(Date.now() + 5000);
    await fs.utimes(req, later, later);
    expect((await src.series(detail)).requests?.ttftMs).toEqual([10, 30]);
    await fs.writeFile(req, line(0, 10) + '\n{"sendNs": 5\n');
    const latest = new Date(Date.now() + 10_000);
    await fs.utimes(req, latest, latest);
    await expect(src.series(detail)).rejects.toThrow(/requests\.jsonl:2 is not valid JSON/);
  });

  it('draws the mocker fabric figure for a simulated run and none for a real one', async () => {
    const kv = [{ source: 'decode-0', bytesPerBlock: 2 * 1024 * 1024, run: { perBlockS: 8e-6, blocks: 10, fromMs: 0, toMs: 1000 }, intervals: [] }];
    const sim = await new RunSeriesSource(store).series(await storeRun('sim', line(0, 10) + '\n', { simulated: true, kv }));
    expect(sim.fabric?.msPerBlock).toBeCloseTo(0.0056, 9);
    expect(sim.kvTransfer[0]?.runMsPerBlock).toBeCloseTo(0.008, 9);
    const real = await new RunSeriesSource(store).series(await storeRun('real', line(0, 10) + '\n', { kv }));
    expect(real.fabric).toBeNull();
  });
});
