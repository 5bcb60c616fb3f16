import { describe, expect, it } from 'vitest';
import type { DeploymentSample } from '../../common/deployment-view';
import { chartsFor, formatAxis, formatCompact } from './chart-defs';
import { DeploymentSeries, SeriesBook } from './deployment-series';
import { chartLines, timeTicks } from './live-chart';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
const sample = (host: string, s: number, perProcess: DeploymentSample['perProcess'], errors?: Record<string, string>): DeploymentSample => ({
  id: 'd1',
  host,
  at: at(s),
  perProcess,
  ...(errors ? { errors } : {}),
});

describe('DeploymentSeries', () => {
  it('keeps one series per process and key, and totals each process\'s newest value across hosts', () => {
    const d = new DeploymentSeries();
    expect(d.ingest(sample('a', 1, { 'prefill-0': { requestsRunning: 2, requestsWaiting: 1 }, router: { requestsPerS: 5 } }))).toBe(true);
    expect(d.ingest(sample('b', 2, { 'decode-0': { requestsRunning: 3, kvBytesPerS: 1000 } }))).toBe(true);
    expect(Array.from(d.get('router:requestsPerS')!.since(0).v)).toEqual([5]);
    // Host b's sample adds decode-0 to prefill-0's value from host a's last sample.
    expect(Array.from(d.get('sum:requestsRunning')!.since(0).v)).toEqual([2, 5]);
    expect(Array.from(d.get('sum:kvBytesPerS')!.since(0).v)).toEqual([1000]);
    expect(d.samples).toBe(2);
    expect(d.firstAtMs).toBe(Date.parse(at(1)));
    expect(d.lastAtMs).toBe(Date.parse(at(2)));
  });

  it('ignores duplicate and older samples from a host (two windows watching the same deployment)', () => {
    const d = new DeploymentSeries();
    expect(d.ingest(sample('a', 5, { w: { requestsRunning: 1 } }))).toBe(true);
    expect(d.ingest(sample('a', 5, { w: { requestsRunning: 1 } }))).toBe(false);
    expect(d.ingest(sample('a', 4, { w: { requestsRunning: 1 } }))).toBe(false);
    expect(d.ingest({ ...sample('a', 6, {}), at: 'not a time' })).toBe(false);
    expect(d.samples).toBe(1);
  });

  it('remembers scrape errors until the process is read again', () => {
    const d = new DeploymentSeries();
    d.ingest(sample('a', 1, {}, { 'decode-0': 'connection refused' }));
    expect(d.errors).toEqual({ 'decode-0': 'connection refused' });
    d.ingest(sample('a', 2, { 'decode-0': { requestsRunning: 0 } }));
    expect(d.errors).toEqual({});
  });

  it('files samples under their deployment', () => {
    const book = new SeriesBook();
    book.ingest(sample('a', 1, { w: { requestsRunning: 1 } }));
    expect(book.get('d1')?.samples).toBe(1);
    expect(book.get('d2')).toBeUndefined();
    book.drop('d1');
    expect(book.get('d1')).toBeUndefined();
  });
});

describe('chart definitions', () => {
  const pd = [
    { name: 'prefill-0', role: 'prefill' },
    { name: 'decode-0', role: 'decode' },
    { name: 'router', role: 'router' },
  ];

  it('charts the seven figures of a P/D deployment from the router and the workers', () => {
    const defs = chartsFor(pd, 'disaggregated');
    expect(defs.map((d) => d.id)).toEqual(['requests', 'ttft', 'itl', 'kv-cache', 'queue', 'remote-prefill', 'kv-bytes']);
    const byId = Object.fromEntries(defs.map((d) => [d.id, d.lines.map((l) => l.series)]));
    expect(byId.requests).toEqual(['router:requestsPerS']);
    expect(byId.ttft).toEqual(['router:ttftP50Ms', 'router:ttftP99Ms']);
    expect(byId.itl).toEqual(['decode-0:itlP50Ms', 'decode-0:itlMeanMs']);
    expect(byId['kv-cache']).toEqual(['prefill-0:kvCacheUsagePct', 'decode-0:kvCacheUsagePct']);
    expect(byId.queue).toEqual(['sum:requestsRunning', 'sum:requestsWaiting']);
    expect(byId['remote-prefill']).toEqual(['router:remotePrefillRatio']);
    expect(byId['kv-bytes']).toEqual(['sum:kvBytesPerS']);
    expect(defs.every((d) => d.notApplicable === undefined)).toBe(true);
  });

  it('says why there is no KV handoff to chart in an aggregated deployment', () => {
    const defs = chartsFor([{ name: 'worker-0', role: 'both' }, { name: 'worker-1', role: 'both' }, { name: 'router', role: 'router' }], 'aggregated');
    const kv = defs.find((d) => d.id === 'kv-bytes')!;
    expect(kv.lines).toEqual([]);
    expect(kv.notApplicable).toMatch(/no KV cache is handed/);
    expect(defs.find((d) => d.id === 'itl')!.lines.map((l) => l.label)).toEqual(['worker-0 p50', 'worker-1 p50']);
  });

  it('draws a window ending at the newest sample, scaled, starting no earlier than the first', () => {
    const d = new DeploymentSeries();
    for (let s = 0; s < 100; s++) d.ingest(sample('a', s, { router: { remotePrefillRatio: 0.5 } }));
    const def = chartsFor(pd, 'disaggregated').find((c) => c.id === 'remote-prefill')!;
    const { lines, from, to } = chartLines(def, d, 10_000);
    expect(to).toBe(Date.parse(at(99)));
    expect(from).toBe(to - 10_000);
    expect(lines[0]!.points).toHaveLength(11);
    expect(lines[0]!.points.every((p) => p.v === 50)).toBe(true);
    expect(lines[0]!.latest).toBe(50);
    expect(chartLines(def, d, 3_600_000).from).toBe(Date.parse(at(0)));
    expect(chartLines(def, undefined, 1000).lines[0]!.points).toEqual([]);
  });

  it('formats headline and axis numbers briefly, with binary prefixes for bytes', () => {
    expect(formatCompact(1536 * 1024, 'B/s')).toBe('1.5 MiB/s');
    expect(formatCompact(12.345, 'ms')).toBe('12.3 ms');
    expect(formatCompact(0.5, 'req/s')).toBe('0.50');
    expect(formatCompact(25_000, 'requests')).toBe('25.0 k');
    expect(formatCompact(null, 'ms')).toBe('—');
    expect(formatAxis(600 * 1024 * 1024, 'B/s')).toBe('600M');
    expect(formatAxis(0, 'ms')).toBe('0');
    expect(formatAxis(2.5, '%')).toBe('2.50');
    expect(timeTicks(0, 400)).toEqual([0, 100, 200, 300, 400]);
    expect(timeTicks(5, 5)).toEqual([5]);
  });
});
