import { describe, expect, it } from 'vitest';
import type { NixlTransferRecord } from './kv/nixl-transfer';
import type { RouterTrace as RouterTraceLine } from './router-trace';
import type { MetricSample, RequestRecord } from './run-record';
import { buildRunWaterfall, chatWaterfall, checkDisaggregation, matchTransfers, phasesTotalMs, requestWaterfall, RunTraceLine, ttftBreakdown, workerRoles, type RequestWaterfall } from './waterfall';

const MS = 1e6;
const D = 'http://127.0.0.1:8200';
const P = 'http://127.0.0.1:8100';

function record(id: string, sendMs: number, firstMs: number | null, lastMs: number | null, extra: Partial<RequestRecord> = {}): RequestRecord {
  const chunks = firstMs !== null && lastMs !== null ? Array.from({ length: 11 }, (_, i) => (firstMs + ((lastMs - firstMs) * i) / 10) * MS) : [];
  return {
    id,
    phase: 'profiling',
    sendNs: sendMs * MS,
    chunkNs: chunks,
    firstTokenNs: firstMs === null ? null : firstMs * MS,
    lastTokenNs: lastMs === null ? null : lastMs * MS,
    inputTokens: 3000,
    outputTokens: { usage: 11, chunks: 11 },
    error: null,
    ...extra,
  };
}

function trace(id: string, t: { arrival: number; pSent?: number; pDone?: number; dSent: number; first: number | null; last?: number | null }, extra: Partial<RunTraceLine> = {}): RunTraceLine {
  const ns = (v: number | null | undefined) => (v === null || v === undefined ? null : v * MS);
  const remote = t.pSent !== undefined && (extra.remotePrefill ?? true);
  return RunTraceLine.parse({
    requestId: id,
    arrivalNs: t.arrival * MS,
    remotePrefill: remote,
    prefillWorker: t.pSent !== undefined ? P : null,
    decodeWorker: D,
    prefillSentNs: ns(t.pSent),
    prefillDoneNs: ns(t.pDone),
    decodeSentNs: ns(t.dSent),
    firstTokenNs: ns(t.first),
    lastTokenNs: ns(t.last ?? t.first),
    blocks: remote ? 188 : null,
    promptTokens: 3000,
    outputTokens: 11,
    error: null,
    prefillReason: remote ? 'disaggregated' : 'short-prompt',
    ...extra,
  });
}

function transfer(atMs: number, durationUs: number, extra: Partial<NixlTransferRecord> = {}): NixlTransferRecord {
  return { worker: 'decode-0', agent: 'decode-0-agent', atMs, durationUs, postUs: null, bytes: 188 * 2 ** 21, descriptors: null, blocks: 188, perBlockUs: durationUs / 188, ...extra };
}

const ids = (w: RequestWaterfall) => w.phases.map((p) => p.id);
const dur = (w: RequestWaterfall, id: string) => w.phases.find((p) => p.id === id)?.durationMs;

function expectPartition(w: RequestWaterfall) {
  expect(w.ttftMs).not.toBeNull();
  expect(Math.abs(phasesTotalMs(w) - w.ttftMs!)).toBeLessThan(1e-6);
  // Consecutive: each phase starts where the previous one ended.
  const before = w.phases.filter((p) => p.beforeFirstToken);
  expect(before[0]!.startMs).toBe(0);
  for (let i = 1; i < before.length; i++) expect(before[i]!.startMs).toBeCloseTo(before[i - 1]!.startMs + before[i - 1]!.durationMs, 9);
}

describe('per-request waterfall', () => {
  it('splits a remote-prefilled request with a matched NIXL transfer into measured phases that add up to its TTFT', () => {
    const rec = record('r1', 1000, 1160.5, 1260.5);
    const tr = trace('r1', { arrival: 1000.4, pSent: 1001, pDone: 1120, dSent: 1120.2, first: 1160.1, last: 1260.2 });
    // The read ends at 1150 and took 25 ms (start 1125).
    const w = requestWaterfall(rec, tr, [transfer(1150, 25_000)]);
    expect(ids(w)).toEqual(['client-to-router', 'router', 'prefill', 'router-handoff', 'decode-queue', 'kv-transfer', 'first-decode-step', 'router-to-client', 'decode']);
    expect(dur(w, 'client-to-router')).toBeCloseTo(0.4, 6);
    expect(dur(w, 'prefill')).toBeCloseTo(119, 6);
    expect(dur(w, 'decode-queue')).toBeCloseTo(4.8, 6);
    expect(dur(w, 'kv-transfer')).toBeCloseTo(25, 6);
    expect(dur(w, 'first-decode-step')).toBeCloseTo(10.1, 6);
    expect(dur(w, 'router-to-client')).toBeCloseTo(0.4, 6);
    expect(dur(w, 'decode')).toBeCloseTo(100, 6);
    expect(w.phases.find((p) => p.id === 'kv-transfer')!.basis).toBe('measured');
    expect(w.transfers).toMatchObject({ count: 1, bytes: 188 * 2 ** 21 });
    expectPartition(w);
  });

  it('lays out a transfer whose completion time NIXL did not record by its measured duration, before one decode step', () => {
    const rec = record('r1b', 0, 160.5, 260.5);
    const tr = trace('r1b', { arrival: 0.4, pSent: 1, pDone: 120, dSent: 120.2, first: 160.1 });
    // Found by the reader 80 ms after the first token; completed somewhere in the 100 ms before.
    const w = requestWaterfall(rec, tr, [transfer(240, 12_000, { atEarliestMs: 140 })]);
    expect(ids(w)).toEqual(['client-to-router', 'router', 'prefill', 'router-handoff', 'decode-queue', 'kv-transfer', 'first-decode-step', 'router-to-client', 'decode']);
    expect(dur(w, 'kv-transfer')).toBeCloseTo(12, 6);
    expect(w.phases.find((p) => p.id === 'kv-transfer')!.basis).toBe('measured');
    expect(dur(w, 'first-decode-step')).toBeCloseTo(10, 6);
    expect(dur(w, 'decode-queue')).toBeCloseTo(39.9 - 22, 6);
    expectPartition(w);
  });

  it('shows the KV transfer as an upper bound less one decode step when no telemetry matched', () => {
    const rec = record('r2', 0, 160.5, 260.5);
    const w = requestWaterfall(rec, trace('r2', { arrival: 0.4, pSent: 1, pDone: 120, dSent: 120.2, first: 160.1 }), []);
    expect(ids(w)).toEqual(['client-to-router', 'router', 'prefill', 'router-handoff', 'kv-transfer', 'first-decode-step', 'router-to-client', 'decode']);
    const kv = w.phases.find((p) => p.id === 'kv-transfer')!;
    expect(kv.basis).toBe('upper-bound');
    expect(kv.note).toMatch(/upper bound/);
    // ITL 10 ms (100 ms over 10 gaps): one decode step of 10 ms is taken off the window 120.2 → 160.1.
    expect(dur(w, 'first-decode-step')).toBeCloseTo(10, 6);
    expect(kv.durationMs).toBeCloseTo(29.9, 6);
    expectPartition(w);
  });

  it('puts the whole decode window into the upper bound when one decode step would fill it', () => {
    // ITL 10 ms, decode leg of 8.5 ms.
    const rec = record('r3b', 0, 50, 150);
    const w = requestWaterfall(rec, trace('r3b', { arrival: 0.2, pSent: 0.5, pDone: 41, dSent: 41.1, first: 49.6 }), []);
    expect(ids(w)).toEqual(['client-to-router', 'router', 'prefill', 'router-handoff', 'kv-transfer', 'router-to-client', 'decode']);
    expect(dur(w, 'kv-transfer')).toBeCloseTo(8.5, 6);
    expect(w.notes.join(' ')).toMatch(/as long as the whole decode leg/);
    expectPartition(w);
  });

  it('puts the whole decode window into the upper bound when the request had one chunk', () => {
    const rec = record('r3', 0, 50, 50, { chunkNs: [50 * MS] });
    const w = requestWaterfall(rec, trace('r3', { arrival: 0.2, pSent: 0.5, pDone: 30, dSent: 30.1, first: 49.8 }), []);
    expect(ids(w)).toEqual(['client-to-router', 'router', 'prefill', 'router-handoff', 'kv-transfer', 'router-to-client']);
    expect(w.notes.join(' ')).toMatch(/first decode step/);
    expectPartition(w);
  });

  it('gives a locally prefilled request of a disaggregated deployment one prefill-on-decode phase', () => {
    const rec = record('r4', 0, 80.3, 180.3);
    const w = requestWaterfall(rec, trace('r4', { arrival: 0.3, dSent: 2, first: 80 }), []);
    expect(w.placement).toBe('local');
    expect(w.prefillReason).toBe('short-prompt');
    expect(ids(w)).toEqual(['client-to-router', 'router', 'local-prefill', 'router-to-client', 'decode']);
    expect(dur(w, 'local-prefill')).toBeCloseTo(78, 6);
    expectPartition(w);
  });

  it('treats an aggregated request like a local prefill and says so', () => {
    const rec = record('r5', 0, 40, 90);
    const w = requestWaterfall(rec, trace('r5', { arrival: 0.1, dSent: 0.5, first: 39.8 }, { prefillReason: 'aggregated' }), []);
    expect(w.placement).toBe('aggregated');
    expect(ids(w)).toEqual(['client-to-router', 'router', 'local-prefill', 'router-to-client', 'decode']);
    expectPartition(w);
  });

  it('shows a prefill leg that returned no KV params followed by a prefill on decode', () => {
    const rec = record('r6', 0, 200, 300);
    const tr = trace('r6', { arrival: 0.1, pSent: 1, pDone: 100, dSent: 100.5, first: 199.5 }, { remotePrefill: false, prefillReason: 'prefill-returned-no-kv-params' });
    const w = requestWaterfall(rec, tr, []);
    expect(ids(w)).toEqual(['client-to-router', 'router', 'prefill', 'router-handoff', 'local-prefill', 'router-to-client', 'decode']);
    expect(w.phases.find((p) => p.id === 'prefill')!.note).toMatch(/prefilled again/);
    expectPartition(w);
  });

  it('leaves TTFT unsplit when the router has no trace of the request', () => {
    const w = requestWaterfall(record('r7', 0, 42, 100), null, []);
    expect(ids(w)).toEqual(['unattributed', 'decode']);
    expect(w.notes[0]).toMatch(/no trace/);
    expectPartition(w);
  });

  it('draws both network hops as one phase when the clocks disagree, still adding up to TTFT', () => {
    // Router arrival recorded 3 ms before the client sent: the router's clock runs early.
    const rec = record('r8', 10, 110, 200);
    const w = requestWaterfall(rec, trace('r8', { arrival: 7, pSent: 7.5, pDone: 60, dSent: 60.2, first: 106.5 }), []);
    expect(ids(w)[0]).toBe('network');
    // Network = client TTFT 100 − router TTFT 99.5.
    expect(dur(w, 'network')).toBeCloseTo(0.5, 6);
    expect(w.notes.join(' ')).toMatch(/clocks disagree/);
    expectPartition(w);
  });

  it('shows what the router did for a request that failed before its first token, without a TTFT', () => {
    const rec = record('r9', 0, null, null, { error: { code: 502, type: 'upstream_error', message: 'The decode leg failed' } });
    const w = requestWaterfall(rec, trace('r9', { arrival: 0.2, pSent: 1, pDone: 50, dSent: 50.5, first: null }, { error: 'decode: boom' }), []);
    expect(w.ttftMs).toBeNull();
    expect(w.error).toBe('The decode leg failed');
    expect(ids(w)).toEqual(['client-to-router', 'router', 'prefill', 'router-handoff']);
    expect(w.notes[0]).toMatch(/no TTFT/);
  });

  it('builds the playground waterfall from the router trace with one network phase', () => {
    const t: RouterTraceLine = {
      v: 1,
      requestId: 'chat-1',
      endpoint: '/v1/chat/completions',
      mode: 'disaggregated',
      stream: true,
      arrivalAtMs: 1_700_000_000_000.25,
      prefillSentAtMs: 1_700_000_000_001,
      prefillDoneAtMs: 1_700_000_000_090,
      decodeSentAtMs: 1_700_000_000_090.5,
      firstTokenAtMs: 1_700_000_000_120,
      lastTokenAtMs: 1_700_000_000_400,
      finishedAtMs: 1_700_000_000_401,
      prefillWorker: P,
      decodeWorker: D,
      prefill: 'remote',
      prefillReason: 'disaggregated',
      promptTokens: 500,
      promptTokensSource: 'usage',
      outputTokens: 20,
      outputTokensSource: 'usage',
      kvBlocks: 32,
      remoteEngineId: 'e',
      status: 'ok',
      httpStatus: 200,
      error: null,
      aborted: false,
    };
    const w = chatWaterfall(121.75, 402, t);
    expect(ids(w)).toEqual(['network', 'router', 'prefill', 'router-handoff', 'kv-transfer', 'decode']);
    // With the reply's ITL as its decode step, the upper bound shrinks by one step.
    expect(ids(chatWaterfall(121.75, 402, t, 14))).toEqual(['network', 'router', 'prefill', 'router-handoff', 'kv-transfer', 'first-decode-step', 'decode']);
    expectPartition(chatWaterfall(121.75, 402, t, 14));
    expect(dur(w, 'network')).toBeCloseTo(2, 6);
    expect(w.phases.find((p) => p.id === 'kv-transfer')!.basis).toBe('upper-bound');
    expectPartition(w);
  });
});

describe('matching NIXL transfers to requests', () => {
  const a = trace('a', { arrival: 0, pSent: 1, pDone: 100, dSent: 100.1, first: 150 });
  const b = trace('b', { arrival: 50, pSent: 51, pDone: 140, dSent: 140.1, first: 190 }, { blocks: 60 });
  it('ties a transfer to the only request whose window holds its completion on that worker', () => {
    const m = matchTransfers([a, b], [transfer(120, 10_000), transfer(170, 10_000, { blocks: 60 })]);
    expect(m.byRequest.get('a')).toHaveLength(1);
    expect(m.byRequest.get('b')).toHaveLength(1);
    expect(m.matched).toBe(2);
  });
  it('tells overlapping windows apart by block count, and leaves a transfer unmatched when it cannot', () => {
    const m = matchTransfers([a, b], [transfer(145, 1000, { blocks: 60 }), transfer(146, 1000, { blocks: 7, agent: 'decode-0-rank1' })]);
    expect(m.byRequest.get('b')).toHaveLength(1);
    expect(m.byRequest.has('a')).toBe(false);
    expect(m.ambiguous).toBe(1);
  });
  it('matches a transfer with an uncertain completion time when only one window overlaps it, one per NIXL agent', () => {
    const m = matchTransfers([a, b], [transfer(130, 5000, { atEarliestMs: 105 }), transfer(200, 5000, { atEarliestMs: 155 })]);
    expect(m.byRequest.get('a')).toHaveLength(1);
    expect(m.byRequest.get('b')).toHaveLength(1);
  });
  it('counts a transfer outside every window, or on an unknown worker among several, as an orphan', () => {
    const other = trace('c', { arrival: 0, pSent: 1, pDone: 100, dSent: 100.1, first: 150 }, { decodeWorker: 'http://127.0.0.1:8300' });
    const m = matchTransfers([a, other], [transfer(500, 10), transfer(120, 10, { worker: 'decode-7' })]);
    expect(m.orphan).toBe(2);
    const named = matchTransfers([a, other], [transfer(120, 10, { worker: 'decode-1' })], { 'decode-1': 'http://127.0.0.1:8300' });
    expect(named.byRequest.get('c')).toHaveLength(1);
  });
});

function prom(tMs: number, source: string, values: Record<string, number>): MetricSample {
  return { kind: 'prometheus', tMs, source, values };
}

const SPEC = { workers: [{ role: 'prefill' }, { role: 'decode' }] };

describe('is disaggregation really happening', () => {
  const remoteTraces = [trace('a', { arrival: 0, pSent: 1, pDone: 100, dSent: 100.1, first: 150 }), trace('b', { arrival: 5, pSent: 6, pDone: 120, dSent: 120.1, first: 170 })];
  const healthySamples = [
    prom(0, 'prefill-0', { 'vllm:request_success_total{finished_reason="length"}': 0 }),
    prom(0, 'decode-0', { 'vllm:prompt_tokens_by_source_total{source="external_kv_transfer"}': 0, 'vllm:prompt_tokens_by_source_total{source="local_compute"}': 0, 'vllm:nixl_bytes_transferred_sum': 0 }),
    prom(1000, 'prefill-0', { 'vllm:request_success_total{finished_reason="length"}': 2 }),
    prom(1000, 'decode-0', { 'vllm:prompt_tokens_by_source_total{source="external_kv_transfer"}': 6000, 'vllm:prompt_tokens_by_source_total{source="local_compute"}': 2, 'vllm:nixl_bytes_transferred_sum': 4096 }),
  ];

  it('finds worker roles from the spec, also for named groups', () => {
    expect([...workerRoles(SPEC, ['router', 'prefill-0', 'decode-0'])]).toEqual([
      ['prefill-0', 'prefill'],
      ['decode-0', 'decode'],
    ]);
    expect(workerRoles({ workers: [{ role: 'prefill', name: 'fast' }, { role: 'decode', name: 'slow' }] }, ['fast-0', 'slow-1']).get('slow-1')).toBe('decode');
  });

  it('says disaggregation works when prefill took the requests and decode read their KV', () => {
    const c = checkDisaggregation({ mode: 'disaggregated', traces: remoteTraces, samples: healthySamples, roles: workerRoles(SPEC, ['prefill-0', 'decode-0']), transfers: [] });
    expect(c.status).toBe('ok');
    expect(c.remoteRatio).toBe(1);
    expect(c.decodeExternalKvTokens).toBe(6000);
    expect(c.kvBytes).toBe(4096);
    expect(c.kvBytesSource).toBe('nixl-counters');
    expect(c.messages[0]).toMatch(/Disaggregation is working/);
  });

  it('turns red when every request was prefilled on decode, naming the remote-prefill rule', () => {
    const local = [trace('a', { arrival: 0, dSent: 1, first: 50 }), trace('b', { arrival: 0, dSent: 1, first: 60 })];
    const c = checkDisaggregation({ mode: 'disaggregated', traces: local, samples: [], roles: new Map(), transfers: [] });
    expect(c.status).toBe('bad');
    expect(c.remoteRatio).toBe(0);
    expect(c.messages[0]).toMatch(/prefill workers handled none of the 2 requests/);
    expect(c.messages[0]).toMatch(/remotePrefillMinTokens/);
  });

  it('turns red when decode recomputed the prompts of remotely prefilled requests', () => {
    const samples = [
      prom(0, 'decode-0', { 'vllm:prompt_tokens_by_source_total{source="external_kv_transfer"}': 0, 'vllm:prompt_tokens_by_source_total{source="local_compute"}': 0 }),
      prom(1000, 'decode-0', { 'vllm:prompt_tokens_by_source_total{source="external_kv_transfer"}': 0, 'vllm:prompt_tokens_by_source_total{source="local_compute"}': 6000 }),
    ];
    const c = checkDisaggregation({ mode: 'disaggregated', traces: remoteTraces, samples, roles: workerRoles(SPEC, ['decode-0']), transfers: [] });
    expect(c.status).toBe('bad');
    expect(c.messages.join(' ')).toMatch(/recomputing prompts/);
  });

  it('is not applicable to an aggregated deployment', () => {
    const c = checkDisaggregation({ mode: 'aggregated', traces: [], samples: [], roles: new Map(), transfers: [] });
    expect(c.status).toBe('not-applicable');
  });
});

describe('run waterfall', () => {
  it('breaks TTFT down so the phase means add up to the mean TTFT, and picks the slowest request', () => {
    const records = [record('a', 0, 160, 260), record('b', 5, 175, 300), record('w', 0, 10, 20, { phase: 'warmup' })];
    const traces = [trace('a', { arrival: 0.3, pSent: 1, pDone: 100, dSent: 100.1, first: 159.8 }), trace('b', { arrival: 5.2, pSent: 6, pDone: 120, dSent: 120.1, first: 174.7 })];
    const rw = buildRunWaterfall({ runId: 'r', streaming: true, mode: 'disaggregated', spec: SPEC, records, traces, transfers: [transfer(115, 10_000)], samples: [] });
    expect(rw.requests).toBe(2);
    expect(rw.picks.slowest).toBe('b');
    expect(rw.request?.requestId).toBe('b');
    expect(rw.maxSumErrorMs).toBeLessThan(1e-6);
    const all = rw.breakdowns.find((b) => b.group === 'all')!;
    expect(all.phases.reduce((a, p) => a + p.meanMs, 0)).toBeCloseTo(all.meanTtftMs, 9);
    // One request had a measured transfer, the other an upper bound: the stat says the weaker.
    expect(all.phases.find((p) => p.id === 'kv-transfer')!.basis).toBe('upper-bound');
    expect(rw.transfers).toEqual({ total: 1, matched: 1, ambiguous: 0, orphan: 0 });
    expect(ttftBreakdown([], 'all')).toBeNull();
  });

  it('says so when a requested id is not in the run', () => {
    const rw = buildRunWaterfall({ runId: 'r', streaming: true, mode: null, spec: null, records: [record('a', 0, 10, 20)], traces: [], transfers: [], samples: [], requestId: 'zzz' });
    expect(rw.request).toBeNull();
    expect(rw.notes.join(' ')).toMatch(/"zzz" is not one/);
    expect(rw.notes.join(' ')).toMatch(/no router traces/);
  });
});
