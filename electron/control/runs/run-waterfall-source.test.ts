import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunDetail } from '../../../common/run-view';
import { LocalRunStore, RUN_FILES } from './local-run-store';
import { RunWaterfallSource, TRANSFERS_FILE } from './run-waterfall-source';

let home: string;
let store: LocalRunStore;

beforeEach(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'handoff-waterfall-'));
  store = new LocalRunStore(home);
});
afterEach(async () => {
  await fs.rm(home, { recursive: true, force: true });
});

const MS = 1e6;
const request = (id: string, sendMs: number, firstMs: number) =>
  JSON.stringify({ id, phase: 'profiling', sendNs: sendMs * MS, chunkNs: [firstMs * MS, (firstMs + 10) * MS, (firstMs + 20) * MS], firstTokenNs: firstMs * MS, lastTokenNs: (firstMs + 20) * MS, inputTokens: 100, outputTokens: { usage: 3, chunks: 3 }, error: null });
const trace = (id: string, sendMs: number, firstMs: number) =>
  JSON.stringify({
    requestId: id,
    arrivalNs: (sendMs + 0.2) * MS,
    remotePrefill: true,
    prefillWorker: 'http://127.0.0.1:1',
    decodeWorker: 'http://127.0.0.1:2',
    prefillSentNs: (sendMs + 0.5) * MS,
    prefillDoneNs: (sendMs + 30) * MS,
    decodeSentNs: (sendMs + 30.2) * MS,
    firstTokenNs: (firstMs - 0.3) * MS,
    lastTokenNs: (firstMs + 19.7) * MS,
    blocks: 7,
    promptTokens: 100,
    outputTokens: 3,
    error: null,
    prefillReason: 'disaggregated',
    status: 'ok',
  });

async function storeRun(id: string, files: Record<string, string>): Promise<RunDetail> {
  const w = await store.begin(id);
  await w.write(RUN_FILES.runJson, '{}');
  for (const [f, text] of Object.entries(files)) await w.write(f, text);
  await w.commit();
  return {
    summary: { id, location: 'local' },
    run: { workload: { streaming: true }, deployment: { name: 'pd', mode: 'disaggregated', engine: 'mocker', gpuCount: 3 }, spec: { workers: [{ role: 'prefill' }, { role: 'decode' }] } },
    dir: store.dir(id),
  } as unknown as RunDetail;
}

describe('run waterfall source', () => {
  it('joins a stored run and picks a request by id, matching transfers through the worker URLs of the deployment', async () => {
    const detail = await storeRun('r1', {
      [RUN_FILES.requests]: [request('a', 0, 60), request('b', 5, 90)].join('\n') + '\n',
      [RUN_FILES.traces]: [trace('a', 0, 60), trace('b', 5, 90)].join('\n') + '\n',
      [TRANSFERS_FILE]: JSON.stringify({ worker: 'decode-0', agent: 'x', atMs: 33, durationUs: 2000, postUs: null, bytes: 1024, descriptors: null, blocks: 7, perBlockUs: 571 }) + '\n',
    });
    const asked: string[] = [];
    const src = new RunWaterfallSource(store, async (name) => {
      asked.push(name);
      return { 'decode-0': 'http://127.0.0.1:2' };
    });
    const slowest = await src.waterfall(detail);
    expect(slowest.request?.requestId).toBe('b');
    expect(slowest.maxSumErrorMs).toBeLessThan(1e-6);
    const a = await src.waterfall(detail, 'a');
    const kv = a.request?.phases.find((p) => p.id === 'kv-transfer');
    expect(kv?.basis).toBe('measured');
    expect(kv?.durationMs).toBeCloseTo(2, 9);
    // Request b had no transfer: its decode step is estimated from its ITL (20 ms over 2 gaps).
    const step = slowest.request?.phases.find((p) => p.id === 'first-decode-step');
    expect(step?.basis).toBe('estimate');
    expect(step?.durationMs).toBeCloseTo(10, 6);
    expect(asked).toEqual(['pd', 'pd']);
  });

  it('names the file and line of a damaged transfers.jsonl', async () => {
    const detail = await storeRun('r2', {
      [RUN_FILES.requests]: request('a', 0, 60) + '\n',
      [TRANSFERS_FILE]: '{"worker":"decode-0"}\n',
    });
    await expect(new RunWaterfallSource(store).waterfall(detail)).rejects.toThrow(/transfers\.jsonl:1/);
  });

  it('answers an empty waterfall for a run still on its host', async () => {
    const w = await new RunWaterfallSource(store).waterfall({ summary: { id: 'h', location: 'host' }, run: null, dir: null } as unknown as RunDetail);
    expect(w).toMatchObject({ requests: 0, request: null, breakdowns: [] });
  });
});
