import type { DeploymentSummary, DeploymentView } from '../../../../common/deployment-view';
import type { GpuTopology, HostStatus } from '../../../../common/host';
import type { GroupDraft, Mode, WizardDraft } from '../../../store/deployment-draft';
import { linkKind } from '../../hosts/topology-matrix';

/** GPUs with more memory in use than this run something else (the planner warns at the same level). */
export const FOREIGN_MEMORY_MIB = 1024;
/** Ids offered where the GPUs are only simulated (mocker on a host without a GPU) or not known yet. */
export const SIMULATED_GPU_IDS = [0, 1, 2, 3, 4, 5, 6, 7];

export type GpuOffer =
  | { kind: 'real'; ids: number[] }
  /** The mocker only labels its workers with GPU ids; nothing is checked against the host. */
  | { kind: 'simulated'; ids: number[] }
  /** vLLM on a host without a GPU: its CPU build runs there, with no GPU ids. */
  | { kind: 'cpu-only'; ids: [] }
  | { kind: 'unchecked'; ids: number[] };

export function gpuOffer(host: HostStatus | undefined, engine: WizardDraft['engine']): GpuOffer {
  const info = host?.info;
  if (!info) return { kind: 'unchecked', ids: SIMULATED_GPU_IDS };
  const ids = info.gpus.map((g) => g.index);
  if (engine === 'mocker') return { kind: 'simulated', ids: ids.length ? ids : SIMULATED_GPU_IDS };
  return ids.length ? { kind: 'real', ids } : { kind: 'cpu-only', ids: [] };
}

/** GPU → name of the running (not simulated) deployment that holds it, on one host. */
export function gpusHeldByDeployments(summaries: readonly DeploymentSummary[], views: Readonly<Record<string, DeploymentView>>, host: string): Map<number, string> {
  const held = new Map<number, string>();
  for (const d of summaries) {
    // Mocker GPU ids are labels: they never block a real deployment (docs/deployment-spec.md).
    if (d.stoppedAt !== null || d.simulated) continue;
    for (const id of views[d.id]?.plan.gpusByHost[host] ?? []) held.set(id, d.name);
  }
  return held;
}

/** Running, not simulated deployments whose GPUs the wizard must know (fetch their status). */
export function deploymentsHoldingGpus(summaries: readonly DeploymentSummary[]): string[] {
  return summaries.filter((d) => d.stoppedAt === null && !d.simulated).map((d) => d.id);
}

/** GPU → the draft group that took it (another group's GPUs are not offered twice). */
export function gpusTakenInDraft(groups: readonly GroupDraft[], host: string, except?: string): Map<number, GroupDraft> {
  const taken = new Map<number, GroupDraft>();
  for (const g of groups) if (g.host === host && g.key !== except) for (const id of g.gpus) taken.set(id, g);
  return taken;
}

/** The `nvidia-smi topo -m` cell between two GPUs, or null when the topology does not list them. */
export function linkBetween(topology: GpuTopology | null | undefined, a: number, b: number): string | null {
  if (!topology) return null;
  const i = topology.labels.indexOf(`GPU${a}`);
  const j = topology.labels.indexOf(`GPU${b}`);
  if (i < 0 || j < 0) return null;
  return topology.matrix[i]?.[j]?.trim() || null;
}

const LINK_WORDS: Record<string, string> = {
  nv: 'NVLink',
  pix: 'one PCIe bridge',
  pxb: 'several PCIe bridges',
  phb: 'PCIe host bridge',
  node: 'within a NUMA node',
  sys: 'across NUMA nodes',
};

export function describeLink(cell: string): string {
  return LINK_WORDS[linkKind(cell)] ?? cell;
}

/** Each pair of the ids with its link: what TP traffic inside a group crosses. */
export function pairLinks(topology: GpuTopology | null | undefined, ids: readonly number[]): Array<{ a: number; b: number; link: string }> {
  const out: Array<{ a: number; b: number; link: string }> = [];
  const sorted = [...ids].sort((x, y) => x - y);
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) {
      const link = linkBetween(topology, sorted[i]!, sorted[j]!);
      if (link) out.push({ a: sorted[i]!, b: sorted[j]!, link });
    }
  }
  return out;
}

/** Prefill → decode GPU links on a shared host: the path the KV cache takes. */
export function kvPathLinks(topology: GpuTopology | null | undefined, groups: Record<Mode, GroupDraft[]>, host: string): Array<{ a: number; b: number; link: string }> {
  const prefill = groups.disaggregated.filter((g) => g.role === 'prefill' && g.host === host).flatMap((g) => g.gpus);
  const decode = groups.disaggregated.filter((g) => g.role === 'decode' && g.host === host).flatMap((g) => g.gpus);
  const out: Array<{ a: number; b: number; link: string }> = [];
  for (const a of prefill) for (const b of decode) {
    const link = linkBetween(topology, a, b);
    if (link) out.push({ a, b, link });
  }
  return out;
}
