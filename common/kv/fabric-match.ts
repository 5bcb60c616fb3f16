import { z } from 'zod';
import type { FabricProbeRecord } from './fabric-probe';
import { largestCountMeasurement } from './link-expectations';

/**
 * Which GPU pairs a disaggregated deployment moves KV between, and which stored fabric measurement
 * is the reference for a run of it.
 */

/** One worker instance: the GPUs of its TP ranks, rank order. */
export interface KvInstance {
  host: string;
  gpuIds: readonly number[];
  tp: number;
}

export interface KvGpuPair {
  srcHost: string;
  srcGpu: number;
  dstHost: string;
  dstGpu: number;
  /** Decode TP: the KV heads one decode rank reads are kvHeads ÷ this. */
  decodeTp: number;
  crossHost: boolean;
}

/**
 * Each decode rank reads its share of KV heads from the prefill rank(s) holding them: with prefill
 * TP ≤ decode TP, decode rank r reads from prefill rank ⌊r · tpP / tpD⌋ (vLLM's heterogeneous-TP
 * mapping, reference/vllm-disagg.md §7 item 6); with more prefill ranks, from each rank it covers.
 * The router sends any prefill instance to any decode instance, so all instance pairs count.
 */
export function kvGpuPairs(prefill: readonly KvInstance[], decode: readonly KvInstance[]): KvGpuPair[] {
  const out: KvGpuPair[] = [];
  const seen = new Set<string>();
  for (const p of prefill) {
    for (const d of decode) {
      const tpP = Math.max(1, p.gpuIds.length);
      const tpD = Math.max(1, d.gpuIds.length);
      d.gpuIds.forEach((dstGpu, r) => {
        const lo = Math.floor((r * tpP) / tpD);
        const hi = tpP <= tpD ? lo + 1 : Math.min(tpP, Math.ceil(((r + 1) * tpP) / tpD));
        for (let k = lo; k < hi; k++) {
          const srcGpu = p.gpuIds[k];
          if (srcGpu === undefined) continue;
          const key = `${p.host}:${srcGpu}>${d.host}:${dstGpu}`;
          if (seen.has(key)) continue;
          seen.add(key);
          out.push({ srcHost: p.host, srcGpu, dstHost: d.host, dstGpu, decodeTp: d.tp, crossHost: p.host !== d.host });
        }
      });
    }
  }
  return out;
}

/** The worker groups of a stored run's spec, read loosely: run.json keeps the spec as applied, unvalidated. */
const SpecWorkers = z.object({
  workers: z.array(
    z.object({
      role: z.string().optional(),
      host: z.string().optional(),
      tp: z.number().int().positive().optional(),
      replicas: z.number().int().positive().optional(),
      gpus: z.array(z.number().int().nonnegative()).optional(),
    }),
  ),
});

/** Prefill and decode instances of a spec (GPUs listed per group, split into replicas of tp GPUs). */
export function specKvInstances(spec: unknown, defaultHost: string): { prefill: KvInstance[]; decode: KvInstance[] } {
  const parsed = SpecWorkers.safeParse(spec);
  const prefill: KvInstance[] = [];
  const decode: KvInstance[] = [];
  if (!parsed.success) return { prefill, decode };
  for (const w of parsed.data.workers) {
    if (w.role !== 'prefill' && w.role !== 'decode') continue;
    const tp = w.tp ?? 1;
    const gpus = w.gpus ?? [];
    const list = w.role === 'prefill' ? prefill : decode;
    for (let i = 0; i + tp <= gpus.length; i += tp) list.push({ host: w.host ?? defaultHost, gpuIds: gpus.slice(i, i + tp), tp });
  }
  return { prefill, decode };
}

export interface FabricReference {
  /** Gathered per-block latency (p50) at the largest block count measured. */
  usPerBlock: number;
  label: string;
  source: string;
  record: FabricProbeRecord;
}

const gpuPairLabel = (r: Pick<FabricProbeRecord, 'srcGpu' | 'dstGpu'>): string => `GPU${r.srcGpu}→${r.dstGpu}`;

/**
 * The stored measurement to draw as a run's fabric ceiling: gather mode, same bytes per block, on a
 * GPU pair the run moved KV over (the first such pair in the run's rank order, then the newest).
 * Null when the run crossed hosts only, or nothing stored matches.
 */
export function matchFabricReference(pairs: readonly KvGpuPair[], bytesPerBlock: number | null, records: readonly FabricProbeRecord[]): FabricReference | null {
  if (bytesPerBlock === null) return null;
  const usable = records
    .filter((r) => r.result.shape.bytesPerBlock === bytesPerBlock && largestCountMeasurement(r.result, 'gather') !== null)
    .sort((a, b) => b.measuredAt.localeCompare(a.measuredAt));
  for (const p of pairs) {
    if (p.crossHost) continue;
    const r = usable.find((x) => x.host === p.srcHost && x.srcGpu === p.srcGpu && x.dstGpu === p.dstGpu);
    if (!r) continue;
    const m = largestCountMeasurement(r.result, 'gather')!;
    return {
      usPerBlock: m.perBlockUs.p50,
      label: `fabric ceiling (kvprobe, ${gpuPairLabel(r)})`,
      source: `kvprobe ${r.result.implementation} on ${r.host}, ${gpuPairLabel(r)} ${r.link.topo ?? ''}, gather p50 of ${m.blocks}-block transfers, measured ${r.measuredAt.slice(0, 10)}`.replace(/\s+,/g, ','),
      record: r,
    };
  }
  return null;
}
