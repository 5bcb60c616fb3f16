import { z } from 'zod';
import { BenchTool } from '../../../common/bench-rpc';
import { loadPointOf } from '../../../common/compare';
import { RunDeployment, RunStatus, Workload, type RunJson } from '../../../common/run-record';
import { StartWorkload } from '../../../common/run-view';

/**
 * manifest.json of a report bundle: what is in it, and enough to run the same benchmark again
 * (`handoff rerun BUNDLE DEPLOYMENT`): the deployment spec, the workload as runs.start takes it,
 * the tool, and the load points of a sweep.
 */

export const BUNDLE_SCHEMA = 'handoff-bundle/v1';
/** Every path in the archive starts with this folder. */
export const BUNDLE_ROOT = 'handoff-bundle';

export const BundleRun = z.object({
  id: z.string(),
  name: z.string().nullable(),
  group: z.string().nullable(),
  /** Folder of the run's files inside the bundle, e.g. `runs/run-…`. */
  dir: z.string(),
  status: RunStatus,
  simulated: z.boolean(),
  imported: z.boolean(),
  tool: z.string(),
  toolVersion: z.string().nullable(),
  deployment: RunDeployment.nullable(),
  /** The deployment spec as applied (secrets redacted); also as deployment.yaml when the bundle has one deployment. */
  spec: z.unknown().optional(),
  /** The workload as run.json recorded it. */
  recordedWorkload: Workload,
  /** The same workload as runs.start takes it (the model comes from the deployment it is re-run on); null when it cannot be re-run. */
  workload: StartWorkload.nullable(),
  /** Why workload is null, or what the re-run assumes. */
  workloadNote: z.string().nullable(),
});
export type BundleRun = z.infer<typeof BundleRun>;

export const RerunPlan = z.object({
  tool: BenchTool,
  /** The shared workload; for a sweep without its concurrency or request rate. */
  workload: StartWorkload,
  concurrencies: z.array(z.int().min(1)).optional(),
  requestRates: z.array(z.number().positive()).optional(),
  /** The runs it repeats. */
  runIds: z.array(z.string()),
  name: z.string().nullable(),
});
export type RerunPlan = z.infer<typeof RerunPlan>;

export const BundleManifest = z.object({
  schema: z.literal(BUNDLE_SCHEMA),
  createdAt: z.string(),
  handoffVersion: z.string(),
  kind: z.enum(['runs', 'sweep', 'compare']),
  title: z.string(),
  report: z.string(),
  deploymentSpecFile: z.string().nullable(),
  runs: z.array(BundleRun).min(1),
  /** Null when the runs cannot be repeated as one benchmark; rerunNote says why. */
  rerun: RerunPlan.nullable(),
  rerunNote: z.string().nullable(),
  files: z.array(z.object({ path: z.string(), bytes: z.int().nonnegative(), sha256: z.string() })),
});
export type BundleManifest = z.infer<typeof BundleManifest>;

const EXACT_OUTPUT_NOTE = 'Output lengths are requested exactly (min_tokens = max_tokens = OSL, ignore_eos), as "handoff bench --osl" and the seed preset do; run.json does not record whether the original run asked for that.';

/**
 * The workload of runs.start for a recorded run. A run.json may carry the workload exactly as it
 * was asked for (`workloadInput`); otherwise it is rebuilt from the recorded settings.
 */
export function rerunWorkload(run: RunJson, raw?: unknown): { workload: z.infer<typeof StartWorkload> | null; note: string | null } {
  const asked = (raw as { workloadInput?: unknown } | undefined)?.workloadInput;
  if (asked !== undefined) {
    const p = StartWorkload.safeParse(asked);
    if (p.success) {
      // The model belongs to the deployment it is re-run on.
      const { model: _model, tokenizer: _tok, ...rest } = p.data;
      return { workload: rest, note: null };
    }
  }
  if (run.tool.name === 'vllm-bench') return { workload: null, note: 'Runs of "vllm bench serve" are imported only; Handoff cannot start that tool.' };
  const w = run.workload;
  const out: Record<string, unknown> = {};
  const notes: string[] = [];
  if (w.endpointType === 'chat' || w.endpointType === 'completions') out.endpointType = w.endpointType;
  if (w.streaming != null) out.streaming = w.streaming;
  if (w.islMean != null) out.islMean = w.islMean;
  if (w.islStddev != null) out.islStddev = w.islStddev;
  if (w.oslMean != null) {
    out.oslMean = w.oslMean;
    out.oslStddev = w.oslStddev ?? 0;
    if (!w.oslStddev) {
      const n = Math.max(1, Math.round(w.oslMean));
      Object.assign(out, { oslMean: n, minTokens: n, maxTokens: n, ignoreEos: true });
    } else out.exactOutput = true;
    notes.push(EXACT_OUTPUT_NOTE);
  }
  if (w.concurrency != null) out.concurrency = w.concurrency;
  if (w.requestRate != null) {
    out.requestRate = w.requestRate;
    if (w.arrival === 'constant' || w.arrival === 'poisson') out.arrival = w.arrival;
  }
  if (w.requestCount != null) out.requestCount = w.requestCount;
  else if (w.durationS != null) out.durationS = w.durationS;
  if (w.warmupRequestCount != null) out.warmupRequestCount = w.warmupRequestCount;
  if (w.randomSeed != null) out.randomSeed = w.randomSeed;
  if (w.goodput && Object.keys(w.goodput).length) out.slos = w.goodput;
  if (run.imported) notes.push('Imported run: settings the tool did not record take Handoff\'s defaults.');
  const p = StartWorkload.safeParse(out);
  if (!p.success) return { workload: null, note: `The recorded workload cannot be run again: ${p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}.` };
  return { workload: p.data, note: notes.length ? notes.join(' ') : null };
}

function withoutLoad(w: z.infer<typeof StartWorkload>): string {
  const { concurrency: _c, requestRate: _r, ...rest } = w;
  return JSON.stringify(rest, Object.keys(rest).sort());
}

/**
 * One benchmark that repeats the bundle's runs: a single run, or a sweep when the runs share a
 * workload and differ only in concurrency (or only in request rate). Identical runs (the two
 * sides of an aggregated-vs-disaggregated comparison) are one run.
 */
export function planRerun(runs: readonly BundleRun[], title: string): { plan: RerunPlan | null; note: string | null } {
  const usable = runs.filter((r) => r.workload !== null);
  if (!usable.length) return { plan: null, note: runs.map((r) => `${r.id}: ${r.workloadNote ?? 'no workload'}`).join(' ') };
  const tools = new Set(usable.map((r) => r.tool));
  const tool = BenchTool.safeParse([...tools][0]);
  if (tools.size > 1 || !tool.success) return { plan: null, note: `The runs used ${[...tools].join(' and ')}; re-run them one at a time with "handoff rerun BUNDLE DEPLOYMENT --run ID".` };
  const bases = new Set(usable.map((r) => withoutLoad(r.workload!)));
  if (bases.size > 1) return { plan: null, note: `The runs have different workloads; pick one with --run (${usable.map((r) => r.id).join(', ')}).` };
  const loads = new Map<string, BundleRun>();
  for (const r of usable) loads.set(loadPointOf(r.recordedWorkload) ?? JSON.stringify([r.workload!.concurrency, r.workload!.requestRate]), r);
  const distinct = [...loads.values()];
  const first = distinct[0]!;
  const name = runs.length === 1 ? (first.name ?? null) : title;
  if (distinct.length === 1) return { plan: { tool: tool.data, workload: first.workload!, runIds: usable.map((r) => r.id), name }, note: null };
  const conc = distinct.map((r) => r.workload!.concurrency);
  const rates = distinct.map((r) => r.workload!.requestRate);
  const { concurrency: _c, requestRate: _r, ...base } = first.workload!;
  if (rates.every((x) => x === undefined) && conc.every((x) => x !== undefined)) {
    return { plan: { tool: tool.data, workload: base, concurrencies: [...(conc as number[])].sort((a, b) => a - b), runIds: usable.map((r) => r.id), name }, note: null };
  }
  if (rates.every((x) => x !== undefined) && new Set(conc).size === 1) {
    return { plan: { tool: tool.data, workload: { ...base, ...(conc[0] !== undefined ? { concurrency: conc[0] } : {}) }, requestRates: [...(rates as number[])].sort((a, b) => a - b), runIds: usable.map((r) => r.id), name }, note: null };
  }
  return { plan: null, note: `The runs vary both concurrency and request rate; pick one with --run (${usable.map((r) => r.id).join(', ')}).` };
}
