/**
 * The run view of a 100,000-request run renders in < 1 s in Chromium (issue 6, "Figures"). The
 * baseline is the same page for a 100-request run, measured in the same session. Both runs are
 * AIPerf jsonl imports (bench/import-aiperf.ts makes the records) in a real controller behind
 * `handoff serve`, shown by the freshly built renderer in Debian's Chromium.
 *
 * Measured in the page with performance.now(): from the route change (the click that opens a run)
 * until the KPI cards and every chart's SVG are in the DOM and a frame has been painted. Each
 * measurement starts from a reloaded list page, so the renderer fetches runs.get and runs.series
 * anew. The controller keeps chart data of recently opened runs in memory (its first open reads
 * the whole requests.jsonl, which for 100,000 AIPerf records is ~300 MB), so the first open is
 * printed as its own row.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from '@playwright/test';
import { build as viteBuild } from 'vite';
import { apiCall, startUiServer, type UiServer } from '../e2e/ui-fixture';
import type { BenchRow } from './bench-row';
import { syntheticAiperfJsonl } from './import-aiperf';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHARTS = ['percentiles', 'histogram-ttft', 'cdf-ttft', 'scatter-ttft-isl'];
const ROUNDS = 5;

async function importRun(ui: UiServer, dir: string, records: number): Promise<string> {
  const sub = path.join(dir, `aiperf-${records}`);
  await fs.mkdir(sub, { recursive: true });
  await fs.writeFile(path.join(sub, 'profile_export.jsonl'), syntheticAiperfJsonl(records));
  const r = await apiCall<{ runs: Array<{ id: string }> }>(ui, 'runs.import', { paths: [sub] });
  return r.runs[0]!.id;
}

interface Opened {
  /** From opening the run to its KPI cards and every chart drawn and painted. */
  totalMs: number;
  /** CPU time of the page's main thread meanwhile (Chromium's TaskDuration in thread ticks): less sensitive to a busy machine. */
  cpuMs: number;
}

async function openRun(page: Page, listUrl: string, id: string): Promise<Opened> {
  await page.goto(listUrl);
  await page.getByTestId(`run-row-${id}`).waitFor({ timeout: 60_000 });
  // Main-thread task time in thread-CPU ticks; the counters start when the domain is enabled.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
  const taskS = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration')?.value ?? NaN;
  const cpu0 = await taskS();
  // A string, not a function: tsx names functions with a helper (__name) that the page lacks.
  const script = `(async () => {
    const id = ${JSON.stringify(id)};
    const charts = ${JSON.stringify(CHARTS)};
    const t0 = performance.now();
    window.location.hash = '#/benchmarks/run/' + encodeURIComponent(id);
    await new Promise((resolve) => {
      const check = () => {
        const kpis = document.querySelector('[data-testid="page-run"][data-run-id="' + id + '"] [data-testid="kpi-cards"]');
        const drawn = charts.every((c) => document.querySelector('[data-testid="bench-chart-' + c + '"] svg.recharts-surface .recharts-layer'));
        if (kpis && drawn) resolve(); else requestAnimationFrame(check);
      };
      check();
    });
    // The frame in which the charts were committed has to be painted too.
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    const ready = performance.getEntriesByName('run-view-ready:' + id).pop();
    return { totalMs: performance.now() - t0, dataMs: ready ? ready.startTime - t0 : null };
  })()`;
  const r = (await page.evaluate(script)) as { totalMs: number; dataMs: number | null };
  const cpuMs = ((await taskS()) - cpu0) * 1000;
  await cdp.detach();
  if (process.env.BENCH_VERBOSE) process.stderr.write(`  open ${id}: ${r.totalMs.toFixed(0)} ms (main thread ${cpuMs.toFixed(0)} ms CPU), data in store at ${r.dataMs?.toFixed(0)} ms\n`);
  return { totalMs: r.totalMs, cpuMs };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchRunViewRender(): Promise<BenchRow[]> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'handoff-bench-runview-'));
  let ui: UiServer | null = null;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-dev-shm-usage'],
  });
  try {
    const rendererDir = path.join(tmp, 'renderer');
    await viteBuild({ configFile: path.join(repoRoot, 'build/vite.config.ts'), logLevel: 'error', build: { outDir: rendererDir, emptyOutDir: true, sourcemap: false } });
    ui = await startUiServer({ staticDir: rendererDir });
    const small = await importRun(ui, tmp, 100);
    const big = await importRun(ui, tmp, 100_000);
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const listUrl = `${ui.serve.url}#/benchmarks`;
    // First opens: the controller reads each run's requests.jsonl.
    const firstSmall = await openRun(page, listUrl, small);
    const firstBig = await openRun(page, listUrl, big);
    const smallRuns: Opened[] = [];
    const bigRuns: Opened[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      smallRuns.push(await openRun(page, listUrl, small));
      bigRuns.push(await openRun(page, listUrl, big));
    }
    const load = os.loadavg()[0]!.toFixed(1);
    const points = await page.getByTestId('bench-chart-scatter-ttft-isl').getAttribute('data-points');
    return [
      {
        figure: `run view render, 100,000-request run (median of ${ROUNDS}; scatter ${points} points; load average ${load} on ${os.cpus().length} CPUs)`,
        value: median(bigRuns.map((r) => r.totalMs)),
        unit: 'ms',
        goal: '< 1000 ms',
        baseline: median(smallRuns.map((r) => r.totalMs)),
        baselineLabel: 'same page, 100-request run',
      },
      {
        figure: 'run view render, 100,000-request run: page main-thread CPU time',
        value: median(bigRuns.map((r) => r.cpuMs)),
        unit: 'ms CPU',
        goal: '< 1000 ms',
        baseline: median(smallRuns.map((r) => r.cpuMs)),
        baselineLabel: 'same page, 100-request run',
      },
      {
        figure: 'run view, first open of the 100,000-request run (controller reads requests.jsonl once, then keeps series.json)',
        value: firstBig.totalMs,
        unit: 'ms',
        goal: '- (once per run and controller)',
        baseline: firstSmall.totalMs,
        baselineLabel: 'first open, 100-request run',
      },
    ];
  } finally {
    await browser.close();
    await ui?.close();
    await fs.rm(tmp, { recursive: true, force: true });
  }
}
