import type { RunSummary } from '../../../common/run-view';
import type { ReportTarget } from '../../components/report-export-menu';

/** What the Reports page lists, and what the Compose panel turns a selection into. */

export type EngineFilter = 'all' | 'simulated' | 'real' | 'imported';
export type ModeFilter = 'all' | 'aggregated' | 'disaggregated';

export interface RunFilter {
  query: string;
  engine: EngineFilter;
  mode: ModeFilter;
}

export const NO_FILTER: RunFilter = { query: '', engine: 'all', mode: 'all' };

/** Only complete (or partial) runs stored here can be exported; the others say why not. */
export function exportProblem(r: Pick<RunSummary, 'status' | 'location' | 'host' | 'problem'>): string | null {
  if (r.location === 'host') return `Still on ${r.host ?? 'its host'}; it can be exported once collected.`;
  if (r.status === 'running') return 'Still running.';
  if (r.status === 'damaged') return r.problem ?? 'Damaged: its records cannot be read.';
  return null;
}

function haystack(r: RunSummary): string {
  return [r.id, r.name, r.group, r.tool, r.deployment?.name, r.deployment?.mode, r.deployment?.model, r.deployment?.engine, r.loadPoint, r.host, r.simulated ? 'simulated mocker' : '', r.imported ? 'imported' : '']
    .filter((x): x is string => !!x)
    .join(' ')
    .toLowerCase();
}

/** Every word of the query must appear somewhere in the run's names, ids, deployment, tool or load. */
export function filterRuns(runs: readonly RunSummary[], f: RunFilter): RunSummary[] {
  const words = f.query.toLowerCase().split(/\s+/).filter(Boolean);
  return runs.filter((r) => {
    if (f.engine === 'simulated' && !r.simulated) return false;
    if (f.engine === 'real' && (r.simulated || r.imported)) return false;
    if (f.engine === 'imported' && !r.imported) return false;
    if (f.mode !== 'all' && r.deployment?.mode !== f.mode) return false;
    if (!words.length) return true;
    const text = haystack(r);
    return words.every((w) => text.includes(w));
  });
}

/** What a selection of runs or sweeps becomes: a comparison of two, one report of several, or nothing yet. */
export type ComposePlan =
  | { kind: 'none'; reason: string }
  | { kind: 'compare'; target: ReportTarget; a: string; b: string; sweeps: boolean; needsGpuA: boolean; needsGpuB: boolean }
  | { kind: 'runs'; target: ReportTarget };

export interface ComposeInput {
  /** Picked run ids, in the order picked. */
  runIds: readonly string[];
  /** Picked sweep group ids, in the order picked. */
  sweepIds: readonly string[];
  runs: readonly RunSummary[];
  gpuCountA?: number | null;
  gpuCountB?: number | null;
}

export function composePlan({ runIds, sweepIds, runs, gpuCountA, gpuCountB }: ComposeInput): ComposePlan {
  if (runIds.length && sweepIds.length) return { kind: 'none', reason: 'Pick runs or sweeps, not both: a report compares two runs or two sweeps.' };
  if (sweepIds.length === 1) return { kind: 'none', reason: 'Pick a second sweep to compare with, or export this sweep from its row.' };
  if (sweepIds.length > 2) return { kind: 'none', reason: 'Two sweeps at most: a comparison puts one against the other.' };
  if (runIds.length === 0 && sweepIds.length === 0) return { kind: 'none', reason: 'Pick two runs (for example aggregated and disaggregated on the same workload) or two sweeps.' };
  if (runIds.length === 1) return { kind: 'none', reason: 'Pick at least one more run: two make a comparison with a verdict, more make one report with a section per run.' };
  const gpu = (v: number | null | undefined): number | undefined => (v != null && Number.isInteger(v) && v >= 1 ? v : undefined);
  if (sweepIds.length === 2) {
    const [a, b] = sweepIds as [string, string];
    const unknownGpus = (g: string): boolean => runs.some((r) => r.group === g && !r.deployment?.gpuCount);
    return withGpus({ kind: 'compare', target: { compare: [a, b] }, a, b, sweeps: true, needsGpuA: unknownGpus(a), needsGpuB: unknownGpus(b) }, gpu(gpuCountA), gpu(gpuCountB));
  }
  if (runIds.length === 2) {
    const [a, b] = runIds as [string, string];
    const unknownGpus = (id: string): boolean => !runs.find((r) => r.id === id)?.deployment?.gpuCount;
    return withGpus({ kind: 'compare', target: { compare: [a, b] }, a, b, sweeps: false, needsGpuA: unknownGpus(a), needsGpuB: unknownGpus(b) }, gpu(gpuCountA), gpu(gpuCountB));
  }
  return { kind: 'runs', target: { runIds: [...runIds] } };
}

function withGpus(plan: Extract<ComposePlan, { kind: 'compare' }>, a: number | undefined, b: number | undefined): ComposePlan {
  return { ...plan, target: { ...plan.target, ...(a && plan.needsGpuA ? { gpuCountA: a } : {}), ...(b && plan.needsGpuB ? { gpuCountB: b } : {}) } };
}

/**
 * The newest aggregated run and the newest disaggregated run measured at the same load point,
 * aggregated first (the baseline): the comparison the app exists for.
 */
export function suggestPair(runs: readonly RunSummary[]): [RunSummary, RunSummary] | null {
  const ok = runs.filter((r) => exportProblem(r) === null && r.deployment).sort((x, y) => y.createdAt.localeCompare(x.createdAt));
  for (const d of ok) {
    if (d.deployment?.mode !== 'disaggregated') continue;
    const a = ok.find((r) => r.deployment?.mode === 'aggregated' && r.loadPoint === d.loadPoint && r.simulated === d.simulated);
    if (a) return [a, d];
  }
  return null;
}
