import type { GpuTopology } from '../host';
import type { FabricLink, FabricVerdict } from './fabric-probe';
import type { KvprobeResult } from './kvprobe-result';

/**
 * Link classes of `nvidia-smi topo -m` cells and a rough achievable one-way copy rate for each.
 * NV<n>: n bonded NVLinks at ~25 GB/s per direction each (NVLink 3/4; A100 NV12 ≈ 300, H100 NV18 ≈
 * 450 GB/s), of which large copies reach about 80%. PCIe figures assume Gen4/Gen5 x16 with P2P.
 * These are expectations to flag a broken fabric, not spec-sheet numbers.
 */
const NVLINK_GB_PER_S_PER_LINK = 25;
const ACHIEVABLE = 0.8;

export function classifyLink(topo: GpuTopology | null, srcGpu: number, dstGpu: number): FabricLink {
  if (srcGpu === dstGpu) return { topo: 'X', kind: 'same-gpu', expectedGbPerS: null, description: 'Source and destination are the same GPU: a device-local copy, not a link.' };
  if (!topo) return { topo: null, kind: 'unknown', expectedGbPerS: null, description: 'The host reported no nvidia-smi topology, so the link type is unknown.' };
  const row = topo.labels.indexOf(`GPU${srcGpu}`);
  const col = topo.labels.indexOf(`GPU${dstGpu}`);
  const cell = row >= 0 && col >= 0 ? (topo.matrix[row]?.[col] ?? null) : null;
  return linkFromCell(cell);
}

export function linkFromCell(cell: string | null): FabricLink {
  if (cell === null) return { topo: null, kind: 'unknown', expectedGbPerS: null, description: 'The GPU pair is not in the nvidia-smi topology matrix.' };
  const nv = /^NV(\d+)$/.exec(cell);
  if (nv) {
    const links = Number(nv[1]);
    return { topo: cell, kind: 'nvlink', expectedGbPerS: Math.round(links * NVLINK_GB_PER_S_PER_LINK * ACHIEVABLE), description: `NVLink, ${links} bonded link${links === 1 ? '' : 's'}.` };
  }
  switch (cell) {
    case 'X':
      return { topo: cell, kind: 'same-gpu', expectedGbPerS: null, description: 'Same GPU.' };
    case 'PIX':
    case 'PXB':
      return { topo: cell, kind: 'pcie-switch', expectedGbPerS: 20, description: 'PCIe through one or more PCIe switches, no CPU on the path.' };
    case 'PHB':
    case 'NODE':
      return { topo: cell, kind: 'pcie-host-bridge', expectedGbPerS: 15, description: 'PCIe through the CPU host bridge (same NUMA node); peer-to-peer may be disabled.' };
    case 'SYS':
      return { topo: cell, kind: 'cross-socket', expectedGbPerS: 10, description: 'PCIe across CPU sockets (SMP interconnect); peer-to-peer is often unavailable.' };
    default:
      return { topo: cell, kind: 'unknown', expectedGbPerS: null, description: `Unrecognised topology cell "${cell}".` };
  }
}

/** Slow when the best block-copy figure at the largest block count is under half the link's expected rate. */
export function fabricVerdict(link: FabricLink, result: KvprobeResult): FabricVerdict {
  const largest = Math.max(...result.blockCounts);
  const at = (mode: string) => result.measurements.find((m) => m.mode === mode && m.blocks === largest);
  const best = at('gather') ?? at('contiguous') ?? at('per-piece') ?? null;
  const bestGbPerS = best?.gbPerS ?? null;
  const bestPerBlockUs = best?.perBlockUs.p50 ?? null;
  const gatherSkipped = result.skipped.find((s) => s.mode === 'gather');
  if (gatherSkipped && link.kind !== 'same-gpu') {
    return { level: 'slow', message: `Gather over peer-mapped memory could not run (${gatherSkipped.reason}); NIXL will likely stage through host memory or TCP.`, bestGbPerS, bestPerBlockUs };
  }
  if (bestGbPerS === null || link.expectedGbPerS === null) {
    return { level: 'unknown', message: 'No expected figure for this link; compare with other GPU pairs of the host.', bestGbPerS, bestPerBlockUs };
  }
  const ratio = bestGbPerS / link.expectedGbPerS;
  if (ratio < 0.5) {
    return { level: 'slow', message: `${bestGbPerS.toFixed(1)} GB/s is under half of the ~${link.expectedGbPerS} GB/s expected on ${link.topo ?? 'this link'}; check peer access, IOMMU/ACS settings and the GPUs' PCIe/NVLink state.`, bestGbPerS, bestPerBlockUs };
  }
  return { level: 'ok', message: `${bestGbPerS.toFixed(1)} GB/s, ${Math.round(ratio * 100)}% of the ~${link.expectedGbPerS} GB/s expected on ${link.topo ?? 'this link'}.`, bestGbPerS, bestPerBlockUs };
}
