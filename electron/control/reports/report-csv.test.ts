import { describe, expect, it } from 'vitest';
import { computeRunMetrics } from '../../../common/metrics';
import type { RequestRecord } from '../../../common/run-record';
import { MetricsView } from '../../../common/run-view';
import type { NixlTransferRecord } from '../../../common/kv/nixl-transfer';
import { comparisonCsv, metricsCsv, parseMetricsCsv, parseRequestsCsv, parseTransfersCsv, requestsCsv, transfersCsv } from './report-csv';

const records: RequestRecord[] = [
  { id: 'w', phase: 'warmup', sendNs: 0, chunkNs: [10, 20], firstTokenNs: 10, lastTokenNs: 20, inputTokens: 5, outputTokens: { usage: 2, chunks: 2 }, error: null },
  { id: 'a', sendNs: 100.5, chunkNs: [150, 160.25, 171], firstTokenNs: 150, firstContentNs: 160.25, lastTokenNs: 171, inputTokens: 7, outputTokens: { usage: 3, chunks: 3, tokenizer: 3, reasoning: 1 }, error: null },
  { id: 'b,"quoted"\nline', sendNs: 200, chunkNs: [], firstTokenNs: null, lastTokenNs: null, inputTokens: null, outputTokens: { usage: null, chunks: 0 }, error: { code: 500, type: 'server, error', message: 'said "no"\nthen left' } },
  { sendNs: 300, firstTokenNs: 310, lastTokenNs: 310, inputTokens: 1, outputTokens: { usage: 1, chunks: null }, error: { code: null, type: null, message: 'cancelled' } },
];

describe('CSV export', () => {
  it('reads per-request records back exactly as they were written', () => {
    const text = requestsCsv([{ runId: 'run-1', streaming: true, records }, { runId: 'run-2', streaming: false, records: records.slice(1, 2) }]);
    const back = parseRequestsCsv(text);
    expect(back.get('run-1')).toEqual(records);
    expect(back.get('run-2')).toEqual(records.slice(1, 2));
  });

  it('writes the derived per-request metrics beside the timestamps', () => {
    const text = requestsCsv([{ runId: 'r', streaming: true, records: records.slice(1, 2) }]);
    const [head, row] = text.trim().split('\n');
    const cols = head!.split(',');
    const cells = row!.split(',');
    expect(Number(cells[cols.indexOf('ttftMs')])).toBeCloseTo(49.5e-6, 12);
    expect(cells[cols.indexOf('chunkCount')]).toBe('3');
  });

  it('reads aggregate metrics back to the same figures', () => {
    const m = MetricsView.parse(computeRunMetrics(records));
    const text = metricsCsv([{ runId: 'run-1', runName: 'a, b', gpuCount: 3, metrics: m }]);
    const back = parseMetricsCsv(text).get('run-1')!;
    expect(back.distributions).toEqual(m.distributions);
    const { outputTokensPerSPerGpu, ...scalars } = back.scalars;
    expect(scalars).toEqual(m.scalars);
    expect(outputTokensPerSPerGpu).toBeCloseTo(m.scalars.outputTokenThroughputPerS! / 3, 12);
  });

  it('refuses a CSV that is not a Handoff export, naming what is missing', () => {
    expect(() => parseRequestsCsv('a,b\n1,2\n', 'x.csv')).toThrow(/x\.csv has no columns runId, id, phase/);
    expect(() => parseMetricsCsv('runId,metric\n', 'm.csv')).toThrow(/m\.csv has no columns runName/);
  });

  it('refuses a cell that should be a number, naming the file, line and column', () => {
    const text = requestsCsv([{ runId: 'r', streaming: true, records: records.slice(1, 2) }]).replace(',100.5,', ',soon,');
    expect(() => parseRequestsCsv(text, 'req.csv')).toThrow(/req\.csv:2: column sendNs is "soon"/);
  });

  it('refuses a file cut inside a quoted field', () => {
    const text = requestsCsv([{ runId: 'r', streaming: true, records: records.slice(2, 3) }]);
    expect(() => parseRequestsCsv(text.slice(0, text.indexOf('then')), 'cut.csv')).toThrow(/cut\.csv/);
  });

  it('lists every metric delta of a comparison', () => {
    const csv = comparisonCsv({
      kind: 'runs',
      a: { id: 'a', label: 'A', group: null, mode: 'aggregated', gpuCount: 1, simulated: true, tool: 'builtin' },
      b: { id: 'b', label: 'B', group: null, mode: 'disaggregated', gpuCount: 1, simulated: true, tool: 'builtin' },
      loadPoint: 'concurrency 4',
      workload: { same: true, summary: 's', differences: [] },
      metrics: [{ metric: 'ttftMs', stat: 'p50', label: 'TTFT p50', unit: 'ms', better: 'lower', a: 10, b: 8, delta: -2, pctChange: -20, change: 'better', key: true }],
      verdict: { outcome: 'better', subject: 'disaggregated', baseline: 'aggregated', swapped: false, sentence: 's', reasons: [], simulated: true },
      notes: [],
    });
    expect(csv.trim().split('\n')[1]).toBe('concurrency 4,ttftMs,p50,TTFT p50,ms,lower,10,8,-2,-20,better,true');
  });

  it('reads NIXL transfer records back exactly as they were written, and names the row of a bad one', () => {
    const transfers: NixlTransferRecord[] = [
      { worker: 'decode-0', agent: 'decode-0-rank0', atMs: 1234.5678, durationUs: 131.25, postUs: null, bytes: 33554432, descriptors: null, blocks: 32, perBlockUs: 4.1015625, direction: 'read', atEarliestMs: 1034.5 },
      { worker: 'decode, "1"', agent: 'a', atMs: 0.1, durationUs: 0, postUs: 2.5, bytes: 0, descriptors: 7, blocks: 0, perBlockUs: null },
    ];
    const text = transfersCsv([{ runId: 'run-1', transfers }, { runId: 'run-2', transfers: [] }]);
    const back = parseTransfersCsv(text);
    expect([...back.keys()]).toEqual(['run-1']);
    expect(back.get('run-1')).toEqual(transfers);
    const bad = text.replace('33554432', '-5');
    expect(() => parseTransfersCsv(bad)).toThrow(/transfers\.csv:2: bytes/);
    expect(() => parseTransfersCsv('runId,worker\nr,w\n')).toThrow(/has no columns agent, atMs/);
  });
});
