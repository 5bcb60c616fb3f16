import { linkFromCell } from './fabric-link';
import type { FabricLink } from './fabric-probe';
import type { KvprobeMeasurement, KvprobeMode, KvprobeResult } from './kvprobe-result';

/**
 * What a KV block copy should reach on each kind of `nvidia-smi topo -m` link, and the warnings the
 * fabric check shows when a measured GPU pair falls short. The expected rates themselves come from
 * linkFromCell (common/kv/fabric-link.ts), the one place the controller's verdict also reads, so the
 * table, the stored verdict and the warnings never disagree.
 */
export const LINK_EXPECTATIONS_SOURCE =
  'Link meanings: the legend nvidia-smi topo -m prints. NVLink: ~25 GB/s per link per direction (NVLink 3 and 4: A100 NV12 ≈ 300 GB/s, H100 NV18 ≈ 450 GB/s one way), of which large copies reach about 80%; on this project\'s H100 pair (NV18) a contiguous GPU0→GPU1 copy measured 395 GB/s and a gathered 2 MiB Llama-8B block 5.6 µs ≈ 374 GB/s (reference/build-machine.md). PCIe: Gen4/Gen5 x16 peer-to-peer rates; paths through the CPU lose peer-to-peer on many platforms, and copies then go through host memory. Rough expectations to catch a broken fabric, not spec-sheet numbers.';

export interface LinkExpectationRow {
  code: string;
  meaning: string;
  /** Achievable one-way GB/s (per bonded link for NV#). */
  expectedGbPerS: number | null;
  expectedText: string;
  /** Whether prefill and decode should share such a link. */
  fitForKv: 'good' | 'workable' | 'poor';
  note: string;
}

const perNvLink = linkFromCell('NV1').expectedGbPerS;

/** One row per link class, fastest first, for the table the fabric check shows beside a result. */
export const LINK_EXPECTATIONS: readonly LinkExpectationRow[] = [
  {
    code: 'NV#',
    meaning: 'NVLink, # bonded links',
    expectedGbPerS: perNvLink,
    expectedText: perNvLink === null ? '—' : `≈ ${perNvLink} GB/s × # (NV18 ≈ ${linkFromCell('NV18').expectedGbPerS} GB/s)`,
    fitForKv: 'good',
    note: 'The path NIXL should use (UCX cuda_ipc); a gathered block should come close to a contiguous copy.',
  },
  row('PIX', 'one PCIe switch between the GPUs', 'workable', 'Peer-to-peer over PCIe without the CPU; ~10× slower than NVLink.'),
  row('PXB', 'several PCIe switches, no host bridge', 'workable', 'Peer-to-peer over PCIe without the CPU.'),
  row('PHB', 'through the PCIe host bridge (CPU)', 'poor', 'Peer-to-peer through the CPU root complex is disabled on many platforms; copies then go through host memory.'),
  row('NODE', 'between host bridges of one NUMA node', 'poor', 'Peer-to-peer is often unavailable; copies go through host memory.'),
  row('SYS', 'across NUMA nodes (CPU interconnect)', 'poor', 'Crosses the socket interconnect; peer-to-peer is usually unavailable.'),
];

function row(code: string, meaning: string, fitForKv: LinkExpectationRow['fitForKv'], note: string): LinkExpectationRow {
  const expected = linkFromCell(code).expectedGbPerS;
  return { code, meaning, expectedGbPerS: expected, expectedText: expected === null ? '—' : `≈ ${expected} GB/s`, fitForKv, note };
}

/** The row of a topo cell (NV18 → the NV# row), or null for X and unknown cells. */
export function expectationRow(topo: string | null): LinkExpectationRow | null {
  if (!topo) return null;
  const code = /^NV\d+$/.test(topo) ? 'NV#' : topo;
  return LINK_EXPECTATIONS.find((r) => r.code === code) ?? null;
}

/** Figures for one mode at the largest block count measured (a prompt-sized transfer). */
export function largestCountMeasurement(result: KvprobeResult, mode: KvprobeMode): KvprobeMeasurement | null {
  let best: KvprobeMeasurement | null = null;
  for (const m of result.measurements) if (m.mode === mode && (!best || m.blocks > best.blocks)) best = m;
  return best;
}

export interface FabricWarning {
  code: 'no-peer-access' | 'gather-skipped' | 'slow-link-class' | 'below-expected' | 'gather-below-contiguous' | 'host-staged-not-slower' | 'not-a-gpu-measurement' | 'no-expectation';
  level: 'warn' | 'info';
  message: string;
}

/** Under this share of the link's expected rate the link "looks slow" (the controller's verdict uses the same half). */
export const SLOW_SHARE_OF_EXPECTED = 0.5;
/** issue 9 §1: a gathered block should reach ≥ 90% of the contiguous peak. */
export const GATHER_SHARE_OF_CONTIGUOUS = 0.9;
/** Peer paths are many times faster than host staging; within this factor the peer path is not really used. */
const HOST_STAGED_CLOSE = 0.5;

const pct = (x: number): string => `${Math.round(x * 100)}%`;
const gb = (x: number): string => `${x >= 100 ? x.toFixed(0) : x.toFixed(1)} GB/s`;

/**
 * Why a measured GPU pair looks slow for KV transfers, most serious first; empty when nothing is
 * off. Each message says what was seen and what to do about it.
 */
export function fabricWarnings(link: FabricLink, result: KvprobeResult): FabricWarning[] {
  const out: FabricWarning[] = [];
  const pair = `GPU ${result.src.index} → GPU ${result.dst.index}`;
  if (result.implementation === 'cpu') {
    out.push({ code: 'not-a-gpu-measurement', level: 'warn', message: 'These figures come from CPU tensors (the fallback\'s self-test), not from GPUs: they say nothing about the fabric. Run the check on a host with two NVIDIA GPUs.' });
  }
  if (!result.peerAccess && link.kind !== 'same-gpu') {
    out.push({
      code: 'no-peer-access',
      level: 'warn',
      message: `The driver reports no peer access for ${pair}: NIXL cannot use CUDA IPC between them and will stage KV through host memory (or TCP), 10–100× slower. Put prefill and decode on GPUs with peer access (NVLink or one PCIe switch), or check IOMMU/ACS settings on the host.`,
    });
  }
  const skipped = result.skipped.find((s) => s.mode === 'gather');
  if (skipped && result.peerAccess) {
    out.push({ code: 'gather-skipped', level: 'warn', message: `The gather mode could not run (${skipped.reason}), so the fabric ceiling for ${pair} is unknown.` });
  }
  const fit = expectationRow(link.topo)?.fitForKv;
  if (fit === 'poor') {
    out.push({
      code: 'slow-link-class',
      level: 'warn',
      message: `${pair} are joined by ${link.topo} (${expectationRow(link.topo)?.meaning ?? link.description}): KV blocks cross the CPU. Prefer a GPU pair joined by NVLink (NV#) or one PCIe switch (PIX) for prefill and decode.`,
    });
  }
  const gather = largestCountMeasurement(result, 'gather');
  const contiguous = largestCountMeasurement(result, 'contiguous');
  const staged = largestCountMeasurement(result, 'host-staged');
  const best = gather ?? contiguous;
  if (best && link.expectedGbPerS !== null && link.expectedGbPerS > 0) {
    const share = best.gbPerS / link.expectedGbPerS;
    if (share < SLOW_SHARE_OF_EXPECTED) {
      out.push({
        code: 'below-expected',
        level: 'warn',
        message: `${best.mode === 'gather' ? 'Gathered' : 'Contiguous'} copies reached ${gb(best.gbPerS)}, ${pct(share)} of the ≈ ${link.expectedGbPerS} GB/s expected on ${link.topo ?? 'this link'}. Check that nothing else uses these GPUs, that NVLink is up (nvidia-smi nvlink -s) and that peer access is enabled.`,
      });
    }
  } else if (best && link.kind !== 'same-gpu' && result.implementation !== 'cpu') {
    out.push({ code: 'no-expectation', level: 'info', message: `No expected figure for link "${link.topo ?? 'unknown'}"; compare ${gb(best.gbPerS)} with other GPU pairs of this host.` });
  }
  if (gather && contiguous && contiguous.gbPerS > 0 && gather.gbPerS < GATHER_SHARE_OF_CONTIGUOUS * contiguous.gbPerS) {
    out.push({
      code: 'gather-below-contiguous',
      level: 'info',
      message: `A gathered block reaches ${pct(gather.gbPerS / contiguous.gbPerS)} of a contiguous copy (${gb(gather.gbPerS)} vs ${gb(contiguous.gbPerS)}): the block's ${result.shape.piecesPerBlock} pieces of ${Math.round(result.shape.bytesPerBlock / result.shape.piecesPerBlock / 1024)} KiB cost more than the link itself.`,
    });
  }
  if (best && staged && result.peerAccess && staged.gbPerS >= HOST_STAGED_CLOSE * best.gbPerS) {
    out.push({
      code: 'host-staged-not-slower',
      level: 'warn',
      message: `Copies through host memory (${gb(staged.gbPerS)}) are nearly as fast as direct ones (${gb(best.gbPerS)}): the direct path between ${pair} is not working as a GPU link should.`,
    });
  }
  return out;
}

/**
 * What can be said about a prefill → decode pair on two hosts. kvprobe moves blocks between GPUs of
 * one host (CUDA IPC); between hosts the KV goes through NIXL/UCX over the NIC, which only NIXL itself
 * exercises.
 */
export function crossHostNote(prefillHost: string, decodeHost: string): string {
  return `Prefill on ${prefillHost} and decode on ${decodeHost} are different hosts: their KV goes over the network through NIXL/UCX (RDMA or TCP), which kvprobe cannot measure, since it copies only between GPUs of one host. What can be checked now: each host's own GPU links (run the check on each host), and the NICs in each host's topology. The real cross-host figure comes during a benchmark, from vllm:nixl_* metrics and NIXL telemetry in the run view's KV-transfer chart. Make sure VLLM_NIXL_SIDE_CHANNEL_HOST is routable and that UCX picks an RDMA transport, not TCP.`;
}
