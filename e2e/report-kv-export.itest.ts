/**
 * The run view's KV-insight charts in exported reports: a disaggregated run with router traces
 * and NIXL transfers (transfers.jsonl) in a real run store, a fabric result stored with its host,
 * exported through reports.export as HTML (opened offline in Chromium), PDF and CSV. The figures
 * shown are checked against the fixture's own transfers and requests, computed here.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fabricVerdict, linkFromCell } from '../common/kv/fabric-link';
import { fabricKey, type FabricFile, type FabricProbeRecord } from '../common/kv/fabric-probe';
import type { NixlTransferRecord } from '../common/kv/nixl-transfer';
import { computeRunMetrics } from '../common/metrics';
import { ReportExportResult } from '../common/report-model';
import type { RequestRecord } from '../common/run-record';
import type { Controller } from '../electron/control/controller';
import { launchChromium, reportController } from './harness/report-harness';
import { parseTransfersCsv } from '../electron/control/reports/report-csv';
import { fakeResult } from './kvprobe-fakes';
import { FIXTURE_BYTES_PER_BLOCK, fixtureTracesAndTransfers, writeFixtureRun, finishReportExport } from './report-fixture';

const FABRIC_P50_US = 2.9;

let home: string;
let controller: Controller;
let browser: Browser;
let records: RequestRecord[];
let transfers: NixlTransferRecord[];

async function exportReport(params: Record<string, unknown>): Promise<ReportExportResult> {
  const final = await finishReportExport(controller, params);
  if (final.state !== 'succeeded') throw new Error(`export failed: ${JSON.stringify(final.error)}`);
  return ReportExportResult.parse(final.result);
}

/** numpy's default (linear) percentile, written out here so the test does not reuse the code under test. */
function percentile(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  const at = (p / 100) * (s.length - 1);
  const lo = Math.floor(at);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (at - lo);
}

function fabricRecord(): FabricProbeRecord {
  const result = fakeResult({
    shape: { layers: 32, kvHeadsPerRank: 4, headDim: 128, dtypeBytes: 2, blockSize: 16, bytesPerBlock: FIXTURE_BYTES_PER_BLOCK, piecesPerBlock: 64 },
    measurements: [{ mode: 'gather', blocks: 188, iterations: 50, perBlockUs: { p50: FABRIC_P50_US, p99: 3.1, mean: 2.95 }, gbPerS: 361 }],
  });
  const { bytesPerBlock: _b, piecesPerBlock: _p, ...shape } = result.shape;
  const link = linkFromCell('NV18');
  return { key: fabricKey(0, 1, shape), host: 'this-computer', srcGpu: 0, dstGpu: 1, model: null, tp: null, link, verdict: fabricVerdict(link, result), provenance: { via: 'prebuilt', path: '/opt/kvprobe', notes: [] }, result, measuredAt: '2026-11-26T14:00:00.000Z' };
}

async function openOffline(file: string): Promise<{ page: Page; requests: string[]; close(): Promise<void> }> {
  const url = pathToFileURL(file).href;
  const context = await browser.newContext({ offline: true });
  const requests: string[] = [];
  await context.route('**/*', (route) => {
    if (route.request().url() === url) return route.continue();
    requests.push(route.request().url());
    return route.abort();
  });
  const page = await context.newPage();
  await page.goto(url, { waitUntil: 'load' });
  return { page, requests, close: () => context.close() };
}

beforeAll(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'report-kv-itest-'));
  const w = await writeFixtureRun(home, { id: 'run-kv', requests: 160, concurrency: 4, simulated: false, kvInsight: true, seed: 23 });
  records = w.records;
  transfers = fixtureTracesAndTransfers(records, 'disaggregated').transfers;
  await writeFixtureRun(home, { id: 'run-plain', requests: 40, concurrency: 2, seed: 5 });
  await fs.mkdir(path.join(home, 'hosts', 'this-computer'), { recursive: true });
  const fabric: FabricFile = { version: 1, records: [fabricRecord()] };
  await fs.writeFile(path.join(home, 'hosts', 'this-computer', 'fabric.json'), JSON.stringify(fabric));
  controller = await reportController(home);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await controller?.close();
  await fs.rm(home, { recursive: true, force: true });
});

describe('KV insight in exported reports', () => {
  it('draws the NIXL telemetry charts, TTFT by phase, the disaggregation panel and the stored fabric line, with the numbers of the run', async () => {
    expect(transfers.length).toBeGreaterThan(100);
    const r = await exportReport({ runIds: ['run-kv'], format: 'html', outPath: path.join(home, 'out', 'kv.html') });
    const { page, requests, close } = await openOffline(r.files[0]!.path);
    try {
      expect(requests).toEqual([]);
      for (const id of ['chart-nixl-per-block-hist', 'chart-nixl-per-block-cdf', 'chart-nixl-over-time', 'chart-nixl-bytes', 'chart-ttft-breakdown', 'chart-kv-per-block']) {
        const chart = page.getByTestId(id);
        expect(await chart.count(), id).toBe(1);
        expect(await chart.getAttribute('data-chart'), id).not.toBe('empty');
        expect(await chart.locator('path, polyline, rect').count(), id).toBeGreaterThan(0);
      }
      const shown = new Map(await page.$$eval('[data-k][data-value]', (els) => els.map((e) => [e.getAttribute('data-k')!, Number(e.getAttribute('data-value'))] as const)));

      // NIXL telemetry against the transfers as written.
      const perBlock = transfers.map((t) => t.perBlockUs!);
      expect(shown.get('run-kv.nixl.count')).toBe(transfers.length);
      for (const p of [50, 90, 99]) expect(shown.get(`run-kv.nixl.perBlockUs.p${p}`)).toBeCloseTo(percentile(perBlock, p), 9);
      const sumDur = transfers.reduce((a, t) => a + t.durationUs, 0);
      const sumBlocks = transfers.reduce((a, t) => a + t.blocks, 0);
      expect(shown.get('run-kv.nixl.decode-0.transfers')).toBe(transfers.length);
      expect(shown.get('run-kv.nixl.decode-0.blocks')).toBe(sumBlocks);
      expect(shown.get('run-kv.nixl.decode-0.bytes')).toBe(sumBlocks * FIXTURE_BYTES_PER_BLOCK);
      expect(shown.get('run-kv.nixl.decode-0.perBlockUs')).toBeCloseTo(sumDur / sumBlocks, 9);
      // The vllm:nixl_* figure of summary.json beside it: 4.1 µs per block.
      expect(shown.get('run-kv.nixl.decode-0.aggregatePerBlockUs')).toBeCloseTo(4.1, 9);

      // Is disaggregation really happening: 4 of 5 answered requests went to the prefill worker.
      const answered = records.filter((x) => x.firstTokenNs !== null);
      const remote = records.filter((x, i) => x.firstTokenNs !== null && i % 5 !== 0);
      expect(await page.getByTestId('disagg-run-kv').getAttribute('data-status')).not.toBe('bad');
      expect(shown.get('run-kv.disagg.tracedRequests')).toBe(answered.length);
      expect(shown.get('run-kv.disagg.remotePrefilled')).toBe(remote.length);
      expect(shown.get('run-kv.disagg.remoteRatio')).toBeCloseTo(remote.length / answered.length, 12);
      expect(shown.get('run-kv.disagg.kvBytes')).toBe(transfers.reduce((a, t) => a + t.bytes, 0));

      // Where did TTFT go: the mean TTFT is the run's, and the phase means add up to it.
      const m = computeRunMetrics(records, { streaming: true });
      expect(shown.get('run-kv.ttft.all.meanTtftMs')).toBeCloseTo(m.distributions.ttftMs!.avg, 6);
      expect(shown.get('run-kv.ttft.all.requests')).toBe(m.distributions.ttftMs!.count);
      const phaseMeans = [...shown].filter(([k]) => k.startsWith('run-kv.ttft.all.') && k.endsWith('.meanMs')).map(([, v]) => v);
      expect(phaseMeans.length).toBeGreaterThanOrEqual(3);
      expect(phaseMeans.reduce((a, b) => a + b, 0)).toBeCloseTo(shown.get('run-kv.ttft.all.meanTtftMs')!, 6);
      const segs = await page.getByTestId('chart-ttft-breakdown').locator('rect[data-value]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
      const allRow = segs.slice(0, phaseMeans.filter((v) => v > 0).length);
      expect(allRow.reduce((a, b) => a + b, 0)).toBeCloseTo(shown.get('run-kv.ttft.all.meanTtftMs')!, 6);
      expect(await page.getByTestId('ttft-breakdown-run-kv-remote').count()).toBe(1);
      expect(await page.getByTestId('ttft-breakdown-run-kv-local').count()).toBe(1);

      // The stored kvprobe result for GPU 0→1 at 1 MiB blocks is the per-block chart's line.
      expect(Number(await page.getByTestId('fabric-reference-run-kv').getAttribute('data-ms-per-block'))).toBe(FABRIC_P50_US / 1000);
      expect(await page.getByTestId('chart-kv-per-block').textContent()).toContain('fabric ceiling (kvprobe, GPU0→1)');
      expect(await page.getByTestId('chart-nixl-per-block-cdf').textContent()).toContain('fabric ceiling (kvprobe, GPU0→1)');
    } finally {
      await close();
    }
  }, 120_000);

  it('leaves the NIXL charts out of a run without transfers, shows its TTFT unsplit without traces, and draws no stored fabric line for a simulated run', async () => {
    const r = await exportReport({ runIds: ['run-plain'], format: 'html', outPath: path.join(home, 'out', 'plain.html') });
    const html = await fs.readFile(r.files[0]!.path, 'utf8');
    expect(html).not.toContain('chart-nixl-');
    // As in the run view: TTFT is shown unsplit, saying why.
    expect(html).toContain('This run has no router traces');
    expect(html).toContain('not split (no router trace)');
    expect(html).toContain('data-testid="chart-kv-per-block"');
    expect(html).not.toContain('fabric ceiling');
  }, 60_000);

  it('prints the same sections to PDF', async () => {
    const r = await exportReport({ runIds: ['run-kv'], format: 'pdf', outPath: path.join(home, 'out', 'kv.pdf') });
    const text = execFileSync('pdftotext', ['-layout', r.files[0]!.path, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
    for (const s of ['NIXL telemetry and vllm:nixl_* side by side', 'KV transfers over time', 'Bytes per transfer', 'Is disaggregation really happening', 'Disaggregation is partly happening', '32 of 160 requests were prefilled on the decode worker', 'Where did TTFT go', 'fabric ceiling (kvprobe, GPU0→1)']) {
      expect(text, s).toContain(s);
    }
  }, 180_000);

  it('writes transfers.csv that parses back to transfers.jsonl, only for runs that have one', async () => {
    const r = await exportReport({ runIds: ['run-kv', 'run-plain'], format: 'csv', outPath: path.join(home, 'out', 'csv') });
    expect(r.files.map((f) => path.basename(f.path))).toEqual(['requests.csv', 'metrics.csv', 'transfers.csv']);
    const back = parseTransfersCsv(await fs.readFile(r.files[2]!.path, 'utf8'));
    expect([...back.keys()]).toEqual(['run-kv']);
    expect(back.get('run-kv')).toEqual(transfers);
    const plain = await exportReport({ runIds: ['run-plain'], format: 'csv', outPath: path.join(home, 'out', 'csv-plain') });
    expect(plain.files.map((f) => path.basename(f.path))).toEqual(['requests.csv', 'metrics.csv']);
  }, 60_000);
});
