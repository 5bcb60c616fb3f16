import type { Command } from 'commander';
import { BenchTool } from '../../common/bench-rpc';
import { describeWorkload, formatPct, type Comparison, type MetricDelta, type RunComparison } from '../../common/compare';
import { UserFacingError } from '../../common/errors';
import { normalizeCpuList } from '../../common/cpu-list';
import { DISTRIBUTION_METRICS, SCALAR_METRICS, type DistributionMetricKey, type ScalarMetricKey } from '../../common/metrics/metric-keys';
import { BenchTaskResult, type ImportReport, type RunDetail, type RunSummary, type StartWorkload } from '../../common/run-view';
import type { Task } from '../../common/task';
import { withController, type CliController } from './cli-controller';
import { followWithCancel } from './follow-task';

/**
 * `handoff bench | runs | import | compare`: benchmark a deployment (one run, or a sweep when
 * --concurrency or --rate lists several values), list and show stored runs, import tool
 * artifacts, and compare two runs or sweeps with a verdict. See docs/cli.md.
 */

interface BenchFlags {
  preset?: string;
  isl?: number;
  islStddev?: number;
  osl?: number;
  concurrency?: number[];
  rate?: number[];
  requests?: number;
  duration?: number;
  warmup?: number;
  seed?: number;
  endpoint?: string;
  streaming?: boolean;
  goodput?: string;
  tool: string;
  toolArg?: string[];
  clientCpus?: string;
  serverTokenCount?: boolean;
  name?: string;
  json?: boolean;
}

export function registerBenchCommands(program: Command): void {
  program
    .command('bench')
    .argument('<deployment>', 'deployment id, unique id prefix, or name')
    .option('--preset <name>', 'workload preset: "seed" = chat, streaming, ISL 3000, OSL 150 (exact), concurrency 10, 40 requests, 10 warmup, seed 123')
    .option('--isl <n>', 'input tokens per request (mean)', num('--isl', 1))
    .option('--isl-stddev <n>', 'standard deviation of the input length', num('--isl-stddev', 0))
    .option('--osl <n>', 'output tokens per request, exact (min_tokens = max_tokens = N, ignore_eos)', int('--osl', 1))
    .option('--concurrency <list>', 'requests in flight; a comma-separated list runs a sweep (one run per value)', list('--concurrency', true))
    .option('--rate <list>', 'requests per second (constant arrivals); a list runs a sweep over rates', list('--rate', false))
    .option('--requests <n>', 'profiling requests per run', int('--requests', 1))
    .option('--duration <s>', 'run for this many seconds instead of a request count', num('--duration', 0.001))
    .option('--warmup <n>', 'warmup requests before profiling (not measured)', int('--warmup', 0))
    .option('--seed <n>', 'random seed for prompts and lengths', int('--seed', 0))
    .option('--endpoint <type>', 'chat or completions')
    .option('--no-streaming', 'send non-streaming requests (no TTFT or ITL then)')
    .option('--goodput <slos>', 'goodput SLOs, e.g. "time_to_first_token:500 inter_token_latency:20" (ms)')
    .option('--tool <tool>', 'builtin, genai-perf or aiperf (installed on the router host)', 'builtin')
    .option('--tool-arg <arg>', 'extra argument for genai-perf / aiperf (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--client-cpus <list>', 'CPUs of the router host the benchmark client stays on, e.g. 0 or 0-3 (taskset list): keeps it off the cores a CPU engine computes on')
    .option('--server-token-count', "count output tokens with the server's usage instead of re-tokenizing the answer (built-in and AIPerf; genai-perf always re-tokenizes)")
    .option('--name <name>', 'a name for the run (or the sweep)')
    .option('--json', 'print the result as JSON')
    .description('Benchmark a deployment from its router host; prints the run id(s). Ctrl-C stops the run and keeps what it recorded')
    .action(async (deployment: string, opts: BenchFlags) => {
      const tool = BenchTool.safeParse(opts.tool);
      if (!tool.success) throw new UserFacingError('usage', `--tool must be builtin, genai-perf or aiperf, not "${opts.tool}".`);
      if (opts.preset !== undefined && opts.preset !== 'seed') throw new UserFacingError('usage', `Unknown preset "${opts.preset}". The one preset is "seed".`);
      if (opts.endpoint !== undefined && opts.endpoint !== 'chat' && opts.endpoint !== 'completions') throw new UserFacingError('usage', `--endpoint must be chat or completions, not "${opts.endpoint}".`);
      if ((opts.concurrency?.length ?? 0) > 1 && (opts.rate?.length ?? 0) > 1) throw new UserFacingError('usage', 'Sweep over --concurrency or over --rate, not both: give one of them as a list.');
      if (opts.requests !== undefined && opts.duration !== undefined) throw new UserFacingError('usage', 'Give --requests or --duration, not both.');
      const workload: StartWorkload = {
        ...(opts.preset === 'seed' ? { preset: 'seed' as const } : {}),
        ...(opts.isl !== undefined ? { islMean: opts.isl } : {}),
        ...(opts.islStddev !== undefined ? { islStddev: opts.islStddev } : {}),
        // Exact output length, as the seed preset does: the benchmark compares like with like.
        ...(opts.osl !== undefined ? { oslMean: opts.osl, oslStddev: 0, minTokens: opts.osl, maxTokens: opts.osl, ignoreEos: true } : {}),
        ...(opts.concurrency?.length === 1 ? { concurrency: opts.concurrency[0] } : {}),
        ...(opts.rate?.length === 1 ? { requestRate: opts.rate[0] } : {}),
        ...(opts.requests !== undefined ? { requestCount: opts.requests } : {}),
        ...(opts.duration !== undefined ? { durationS: opts.duration } : {}),
        ...(opts.warmup !== undefined ? { warmupRequestCount: opts.warmup } : {}),
        ...(opts.seed !== undefined ? { randomSeed: opts.seed } : {}),
        ...(opts.endpoint !== undefined ? { endpointType: opts.endpoint as 'chat' | 'completions' } : {}),
        ...(opts.streaming === false ? { streaming: false } : {}),
        ...(opts.goodput !== undefined ? { slos: opts.goodput } : {}),
        ...(opts.serverTokenCount ? { outputTokenCount: 'server' as const } : {}),
      };
      const cpus = opts.clientCpus === undefined ? undefined : normalizeCpuList(opts.clientCpus);
      if (cpus && !cpus.ok) throw new UserFacingError('usage', `--client-cpus: ${cpus.reason}.`);
      const base = { deployment, workload, tool: tool.data, ...(opts.toolArg ? { toolArgs: opts.toolArg } : {}), ...(cpus?.ok ? { clientCpus: cpus.cpus } : {}), ...(opts.name ? { name: opts.name } : {}) };
      await withController(async (c) => {
        const started =
          (opts.concurrency?.length ?? 0) > 1
            ? await c.call('runs.sweep', { ...base, concurrencies: opts.concurrency! })
            : (opts.rate?.length ?? 0) > 1
              ? await c.call('runs.sweep', { ...base, requestRates: opts.rate! })
              : await c.call('runs.start', base);
        await followBench(c, started.task, started.runIds, started.group, !!opts.json);
      });
    });

  const runs = program.command('runs').description('Benchmark runs stored on this computer (and runs still going on hosts)');
  runs
    .command('list', { isDefault: true })
    .option('--json', 'print JSON')
    .option('--cached', 'do not ask hosts about runs still on them')
    .description('List runs, newest first; first collects runs that finished on their hosts meanwhile')
    .action(async (opts: { json?: boolean; cached?: boolean }) => {
      await withController(async (c) => {
        const list = await c.call('runs.list', { refresh: !opts.cached });
        if (opts.json) return printJson(list);
        printRunTable(list);
      });
    });
  runs
    .command('show')
    .argument('<id>', 'run id or unique prefix')
    .option('--json', 'print JSON')
    .description('Show one run: workload, metrics, import report, where its files are')
    .action(async (id: string, opts: { json?: boolean }) => {
      await withController(async (c) => {
        const d = await c.call('runs.get', { id });
        if (opts.json) return printJson(d);
        printRun(d);
      });
    });
  runs
    .command('delete')
    .argument('<id>', 'run id, unique prefix, or sweep group id')
    .option('--json', 'print JSON')
    .description('Delete a run (or every run of a sweep) from this computer')
    .action(async (id: string, opts: { json?: boolean }) => {
      await withController(async (c) => {
        const r = await c.call('runs.delete', { id });
        if (opts.json) return printJson(r);
        process.stdout.write(`Deleted ${r.deleted.join(', ')}.\n`);
      });
    });
  runs
    .command('cancel')
    .argument('<id>', 'run id, unique prefix, or sweep group id')
    .option('--json', 'print JSON')
    .description('Stop a run going on on its host; what it recorded is kept as a partial run')
    .action(async (id: string, opts: { json?: boolean }) => {
      await withController(async (c) => {
        const r = await c.call('runs.cancel', { id });
        if (opts.json) return printJson(r);
        for (const s of r) process.stdout.write(`${s.id}  ${s.status}\n`);
      });
    });

  program
    .command('import')
    .argument('<paths...>', 'result files (together one run) or run directories (each a run, and each subdirectory holding results)')
    .option('--name <name>', 'a name for the imported run')
    .option('--json', 'print JSON')
    .description('Import GenAI-Perf, AIPerf or vllm bench serve results; recomputes what it can and redacts secrets')
    .action(async (paths: string[], opts: { name?: string; json?: boolean }) => {
      await withController(async (c) => {
        const r = await c.call('runs.import', { paths, ...(opts.name ? { name: opts.name } : {}) });
        if (opts.json) return printJson(r);
        for (const rep of r.reports) printImportReport(rep);
      });
    });

  program
    .command('compare')
    .argument('<a>', 'run id (or prefix) or sweep group id: the baseline')
    .argument('<b>', 'run id (or prefix) or sweep group id')
    .option('--gpus-a <n>', 'GPU count of A when its run does not know it (imports)', int('--gpus-a', 1))
    .option('--gpus-b <n>', 'GPU count of B', int('--gpus-b', 1))
    .option('--json', 'print JSON')
    .description('Compare two runs or two sweeps: same workload?, per-metric deltas, and a verdict')
    .action(async (a: string, b: string, opts: { gpusA?: number; gpusB?: number; json?: boolean }) => {
      await withController(async (c) => {
        const r = await c.call('runs.compare', { a, b, ...(opts.gpusA ? { gpuCountA: opts.gpusA } : {}), ...(opts.gpusB ? { gpuCountB: opts.gpusB } : {}) });
        if (opts.json) return printJson(r);
        printComparison(r);
      });
    });
}

// ------------------------------------------------------------------ option parsers

function num(flag: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new UserFacingError('usage', `${flag} expects a number ≥ ${min}, got "${v}".`);
    return n;
  };
}

function int(flag: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UserFacingError('usage', `${flag} expects a whole number ≥ ${min}, got "${v}".`);
    return n;
  };
}

function list(flag: string, integers: boolean) {
  return (v: string): number[] => {
    const parts = v.split(',').map((s) => s.trim());
    const out = parts.map(Number);
    if (!parts.length || parts.some((p) => p === '') || out.some((n) => !Number.isFinite(n) || n <= 0 || (integers && !Number.isInteger(n)))) {
      throw new UserFacingError('usage', `${flag} expects ${integers ? 'whole numbers' : 'numbers'} > 0 separated by commas (e.g. ${integers ? '1,4,16' : '0.5,1,2'}), got "${v}".`);
    }
    if (new Set(out).size !== out.length) throw new UserFacingError('usage', `${flag} lists a value twice ("${v}").`);
    return out;
  };
}

// ------------------------------------------------------------------ bench

async function followBench(c: CliController, task: Task, runIds: string[], group: string | null, json: boolean): Promise<void> {
  if (!json) process.stderr.write(`${task.title}: ${group ? `sweep ${group}, ` : ''}run${runIds.length > 1 ? 's' : ''} ${runIds.join(', ')}\n`);
  const final = await followWithCancel(c, task, { json, cancelMessage: 'Stopping the run; keeping what it recorded…' });
  const stored = (await c.call('runs.list', {})).filter((r) => runIds.includes(r.id));
  if (final.state !== 'succeeded') {
    const err = final.error ?? { code: 'internal', message: 'The benchmark did not finish.' };
    if (json) printJson({ ok: false, runIds, group, runs: stored, error: err });
    else if (stored.length) {
      printRunTable(stored);
    }
    throw new UserFacingError(err.code, `${err.message}${stored.some((s) => s.location === 'local') ? ` Kept: ${stored.filter((s) => s.location === 'local').map((s) => `${s.id} (${s.status})`).join(', ')}.` : ''}`);
  }
  const r = BenchTaskResult.parse(final.result);
  if (json) return printJson({ ok: true, ...r });
  for (const id of r.runIds) process.stdout.write(`${id}\n`);
  printRunTable(r.runs, process.stderr);
  process.stderr.write(`Details: handoff runs show ${r.runIds[0]}${r.group ? `; compare this sweep with another: handoff compare OTHER ${r.group}` : ''}\n`);
}

// ------------------------------------------------------------------ printing

function printJson(v: unknown): void {
  process.stdout.write(JSON.stringify(v, null, 2) + '\n');
}

function table(header: string[], rows: string[][], rightAligned: ReadonlySet<number> = new Set()): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) => r.map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [fmt(header), ...rows.map(fmt)].join('\n') + '\n';
}

function f(n: number | null | undefined, digits = 1): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '-';
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  const abs = Math.abs(n);
  const d = abs >= 1000 ? 0 : abs >= 100 ? Math.min(digits, 1) : abs >= 1 ? digits : Math.max(digits, 3);
  return n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

function statusText(s: RunSummary): string {
  if (s.location === 'host') {
    if (s.progress?.disconnected || s.problem) return 'on host (not collected)';
    if (s.progress) return `running ${s.progress.phase} ${s.progress.done}${s.progress.total !== null ? `/${s.progress.total}` : ''}`;
    return 'running';
  }
  return s.status;
}

function printRunTable(list: RunSummary[], out: NodeJS.WritableStream = process.stdout): void {
  if (!list.length) {
    out.write('No runs. Benchmark a deployment with "handoff bench DEPLOYMENT --preset seed", or import results with "handoff import PATH".\n');
    return;
  }
  const rows = list.map((s) => [
    s.id,
    statusText(s),
    s.imported ? `${s.tool} (import)` : s.tool,
    s.deployment ? `${s.deployment.name} (${s.deployment.mode}${s.deployment.gpuCount ? `, ${s.deployment.gpuCount} GPU${s.deployment.gpuCount > 1 ? 's' : ''}` : ''})${s.simulated ? ' sim' : ''}` : (s.name ?? '-'),
    s.loadPoint ?? '-',
    s.headline?.requestCount !== null && s.headline?.requestCount !== undefined ? `${s.headline.requestCount}${s.headline.errorCount ? `+${s.headline.errorCount}✗` : ''}` : '-',
    f(s.headline?.outputTokensPerS, 0),
    f(s.headline?.outputTokensPerSPerGpu, 0),
    f(s.headline?.ttftP50Ms),
    f(s.headline?.itlP50Ms, 2),
    s.group ?? '',
  ]);
  out.write(table(['ID', 'STATUS', 'TOOL', 'DEPLOYMENT', 'LOAD', 'REQS', 'TOK/S', 'TOK/S/GPU', 'TTFT P50 MS', 'ITL P50 MS', 'SWEEP'], rows, new Set([5, 6, 7, 8, 9])));
  for (const s of list) if (s.problem) out.write(`  ${s.id}: ${s.problem.split('\n')[0]}\n`);
}

const DIST_ORDER: DistributionMetricKey[] = ['ttftMs', 'ttstMs', 'ttfoMs', 'itlMs', 'iclMs', 'requestLatencyMs', 'tpsPerUser', 'isl', 'osl', 'outputTokenCount', 'reasoningTokenCount'];
const SCALAR_ORDER: ScalarMetricKey[] = ['outputTokenThroughputPerS', 'requestThroughputPerS', 'goodputPerS', 'goodRequestCount', 'requestCount', 'errorCount', 'benchmarkDurationS', 'totalIsl', 'totalOsl'];

function printRun(d: RunDetail): void {
  const s = d.summary;
  const o = process.stdout;
  o.write(`${s.id}${s.name ? `  ${s.name}` : ''}\n`);
  o.write(`Status: ${statusText(s)}${s.simulated ? ' · simulated (mocker engine)' : ''}${s.imported ? ' · imported' : ''}\n`);
  if (s.problem) o.write(`Problem: ${s.problem}\n`);
  const run = d.run;
  o.write(`Tool: ${s.tool}${run?.tool.version ? ` ${run.tool.version}` : ''}\n`);
  if (s.deployment) o.write(`Deployment: ${s.deployment.name} · ${s.deployment.engine} · ${s.deployment.mode} · ${s.deployment.gpuCount} GPU${s.deployment.gpuCount === 1 ? '' : 's'}${s.host ? ` · on ${s.host}` : ''}\n`);
  o.write(`Workload: ${describeWorkload(s.workload, d.metrics ?? undefined)}\n`);
  if (s.group) o.write(`Sweep: ${s.group}\n`);
  if (run) o.write(`Times: created ${run.timings.createdAt}${run.timings.startedAt ? `, started ${run.timings.startedAt}` : ''}${run.timings.finishedAt ? `, finished ${run.timings.finishedAt}` : ''}\n`);
  if (s.progress) o.write(`Progress: ${s.progress.phase} ${s.progress.done}${s.progress.total !== null ? `/${s.progress.total}` : ''}${s.progress.disconnected ? ` (${s.progress.disconnected})` : ''}\n`);
  const m = d.metrics;
  if (m) {
    o.write(`\nMetrics (${d.metricsSource === 'records' ? 'recomputed from requests.jsonl' : d.metricsSource === 'summary' ? 'from the run summary' : "the tool's own aggregates"}):\n`);
    const rows: string[][] = [];
    for (const k of SCALAR_ORDER) {
      const v = m.scalars[k];
      if (v === undefined) continue;
      rows.push([SCALAR_METRICS[k].label, SCALAR_METRICS[k].unit, f(v, 2), '', '', '', '', '']);
    }
    if (s.headline?.outputTokensPerSPerGpu != null) rows.splice(1, 0, ['Output token throughput per GPU', 'tokens/sec/GPU', f(s.headline.outputTokensPerSPerGpu, 2), '', '', '', '', '']);
    for (const k of DIST_ORDER) {
      const st = m.distributions[k];
      if (!st) continue;
      const info = DISTRIBUTION_METRICS[k];
      rows.push([info.label, info.unit, f(st.avg, 2), f(st.p50, 2), f(st.p90, 2), f(st.p99, 2), f(st.min, 2), f(st.max, 2)]);
    }
    o.write(table(['METRIC', 'UNIT', 'AVG/VALUE', 'P50', 'P90', 'P99', 'MIN', 'MAX'], rows, new Set([2, 3, 4, 5, 6, 7])));
  } else o.write('\nNo metrics (no request finished).\n');
  for (const kv of d.kvTransfer) {
    const k = kv as { source?: string; run?: { perBlockS?: number; blocks?: number } | null; bytesPerBlock?: number };
    if (typeof k.run?.perBlockS === 'number') o.write(`KV transfer (${k.source}): ${f(k.run.perBlockS * 1000, 3)} ms per block${k.run.blocks !== undefined ? ` over ${f(k.run.blocks, 0)} blocks` : ''}${k.bytesPerBlock ? ` of ${f(k.bytesPerBlock / 1024, 0)} KiB` : ''}\n`);
  }
  if (d.import) {
    const i = d.import;
    o.write(`\nImported from ${i.sources.join(', ')} (${i.tool}${i.toolVersion ? ` ${i.toolVersion}` : ''}; ${i.schemas.join('; ')})\n`);
    o.write(`${i.recordCount ? `${i.recordCount} per-request records; ` : 'no per-request records; '}${i.comparedCount ? `${i.comparedCount - i.disagreements.length} of ${i.comparedCount} reported figures agree with the recomputation` : 'nothing to cross-check'}\n`);
    for (const x of i.disagreements.slice(0, 20)) o.write(`  differs: ${x.metric} ${x.stat}: reported ${f(x.reported, 3)}, recomputed ${f(x.recomputed, 3)}\n`);
    if (i.disagreements.length > 20) o.write(`  … and ${i.disagreements.length - 20} more (handoff runs show ${s.id} --json)\n`);
  }
  const notes = [...(run?.notes ?? []), ...(d.import?.notes ?? [])];
  if (notes.length) {
    o.write('\nNotes:\n');
    for (const n of [...new Set(notes)]) o.write(`  - ${n}\n`);
  }
  if (d.dir) o.write(`\nFiles: ${d.dir} (${d.files.length} files)\n`);
}

function printImportReport(r: ImportReport): void {
  const o = process.stdout;
  o.write(`${r.runId}  imported ${r.sources.join(', ')}\n`);
  o.write(`  ${r.tool}: ${r.schemas.join('; ')}\n`);
  o.write(`  ${r.recordCount ? `${r.recordCount} per-request records` : 'summary only (no per-request records)'}`);
  if (r.comparedCount) o.write(`; ${r.disagreements.length ? `${r.disagreements.length} of ${r.comparedCount} reported figures differ from the recomputation` : `all ${r.comparedCount} reported figures agree with the recomputation`}`);
  o.write('\n');
  for (const d of r.disagreements.slice(0, 10)) o.write(`  differs: ${d.metric} ${d.stat}: reported ${f(d.reported, 3)}, recomputed ${f(d.recomputed, 3)}\n`);
  if (r.disagreements.length > 10) o.write(`  … ${r.disagreements.length - 10} more: handoff runs show ${r.runId}\n`);
  for (const i of r.ignored) o.write(`  ${i.kept ? 'kept, not read' : 'skipped'}: ${i.name} (${i.reason})\n`);
  for (const n of r.notes) o.write(`  note: ${n}\n`);
}

function deltaRow(m: MetricDelta): string[] {
  const mark = m.change === 'better' ? '✓ better' : m.change === 'worse' ? '✗ worse' : m.change === 'same' ? 'within noise' : '';
  return [`${m.key ? '* ' : '  '}${m.label}`, m.unit, f(m.a, 2), f(m.b, 2), m.delta === null ? '-' : `${m.delta >= 0 ? '+' : ''}${f(m.delta, 2)}`, m.pctChange === null ? '-' : formatPct(m.pctChange), mark];
}

function printRunComparison(c: RunComparison, indent = ''): void {
  const o = process.stdout;
  o.write(`${indent}A: ${c.a.id} (${c.a.label}${c.a.mode ? `, ${c.a.mode}` : ''}${c.a.gpuCount ? `, ${c.a.gpuCount} GPU${c.a.gpuCount > 1 ? 's' : ''}` : ''})\n`);
  o.write(`${indent}B: ${c.b.id} (${c.b.label}${c.b.mode ? `, ${c.b.mode}` : ''}${c.b.gpuCount ? `, ${c.b.gpuCount} GPU${c.b.gpuCount > 1 ? 's' : ''}` : ''})\n`);
  o.write(`${indent}Workload: ${c.workload.summary}\n\n`);
  o.write(
    table(['METRIC (* = in the verdict)', 'UNIT', 'A', 'B', 'B − A', 'CHANGE', ''], c.metrics.map(deltaRow), new Set([2, 3, 4, 5]))
      .split('\n')
      .map((l) => (l ? indent + l : l))
      .join('\n'),
  );
}

function printComparison(c: Comparison): void {
  const o = process.stdout;
  o.write(`${c.verdict.sentence}\n\n`);
  if (c.kind === 'runs') printRunComparison(c);
  else {
    o.write(`A: sweep ${c.a.id} (${c.a.label}, ${c.a.runs.length} runs)\nB: sweep ${c.b.id} (${c.b.label}, ${c.b.runs.length} runs)\nWorkload: ${c.workload.summary}\n`);
    for (const p of c.points) {
      o.write(`\n== ${p.loadPoint ?? 'point'}: ${p.verdict.sentence}\n`);
      printRunComparison(p, '   ');
    }
  }
  const notes = c.notes;
  if (c.verdict.outcome !== 'not-comparable') o.write(`\nVerdict rules: ±5% for throughput and medians, ±10% for p90/p99, 0.5 ms minimum for latencies, 1 point for the failed-request share (docs/metrics.md §10).\n`);
  for (const n of notes) o.write(`note: ${n}\n`);
}
