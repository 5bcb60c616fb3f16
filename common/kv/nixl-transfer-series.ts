import { z } from 'zod';
import { percentileOfSorted } from '../metrics/stats';
import { decodeFloat32, encodeFloat32 } from '../float32-base64';
import type { NixlTransferRecord } from './nixl-transfer';

/**
 * The run view's per-transfer KV data (transfers.jsonl, docs/nixl-telemetry.md) as columns: one
 * float32 per transfer, base64, like the request columns of runs.series. 100,000 transfers are
 * 2.7 MB of text instead of tens of MB of JSON records.
 */

const Float32Base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
export const TRANSFER_COLUMNS = ['atS', 'durationUs', 'perBlockUs', 'bytes', 'blocks'] as const;
export type TransferColumn = (typeof TRANSFER_COLUMNS)[number];

export const NixlWorkerTransfers = z.object({
  worker: z.string(),
  transfers: z.int().nonnegative(),
  blocks: z.number().nonnegative(),
  bytes: z.number().nonnegative(),
  durationUs: z.number().nonnegative(),
  /** Σ duration ÷ Σ blocks: the same ratio of sums as the vllm:nixl_* cross-check, from the same transfers. */
  perBlockUs: z.number().nonnegative().nullable(),
});
export type NixlWorkerTransfers = z.infer<typeof NixlWorkerTransfers>;

export const NixlTransferSeries = z.object({
  count: z.int().nonnegative(),
  encoding: z.literal('float32-le-base64'),
  /**
   * atS: seconds since the run's origin when the reader found the transfer; durationUs, perBlockUs
   * (NaN when the block size is unknown); bytes; blocks.
   */
  columns: z.object(Object.fromEntries(TRANSFER_COLUMNS.map((n) => [n, Float32Base64])) as Record<TransferColumn, typeof Float32Base64>),
  workers: z.array(NixlWorkerTransfers),
  /** Transfers whose descriptor count NIXL reported (none with telemetry version 4). */
  withDescriptors: z.int().nonnegative(),
  perBlockUs: z.object({ p50: z.number(), p90: z.number(), p99: z.number(), mean: z.number() }).nullable(),
});
export type NixlTransferSeries = z.infer<typeof NixlTransferSeries>;

export function buildNixlTransferSeries(records: readonly NixlTransferRecord[]): NixlTransferSeries {
  const n = records.length;
  const cols: Record<TransferColumn, Float64Array> = { atS: new Float64Array(n), durationUs: new Float64Array(n), perBlockUs: new Float64Array(n), bytes: new Float64Array(n), blocks: new Float64Array(n) };
  const byWorker = new Map<string, NixlWorkerTransfers>();
  let withDescriptors = 0;
  records.forEach((r, i) => {
    cols.atS[i] = r.atMs / 1000;
    cols.durationUs[i] = r.durationUs;
    cols.perBlockUs[i] = r.perBlockUs ?? NaN;
    cols.bytes[i] = r.bytes;
    cols.blocks[i] = r.blocks;
    if (r.descriptors !== null) withDescriptors++;
    let w = byWorker.get(r.worker);
    if (!w) byWorker.set(r.worker, (w = { worker: r.worker, transfers: 0, blocks: 0, bytes: 0, durationUs: 0, perBlockUs: null }));
    w.transfers++;
    w.blocks += r.blocks;
    w.bytes += r.bytes;
    w.durationUs += r.durationUs;
  });
  for (const w of byWorker.values()) w.perBlockUs = w.blocks > 0 ? w.durationUs / w.blocks : null;
  const sorted = cols.perBlockUs.filter((v) => Number.isFinite(v)).sort();
  const perBlockUs = sorted.length
    ? { p50: percentileOfSorted(sorted, 50), p90: percentileOfSorted(sorted, 90), p99: percentileOfSorted(sorted, 99), mean: sorted.reduce((a, b) => a + b, 0) / sorted.length }
    : null;
  return {
    count: n,
    encoding: 'float32-le-base64',
    columns: Object.fromEntries(TRANSFER_COLUMNS.map((c) => [c, encodeFloat32(cols[c])])) as Record<TransferColumn, string>,
    workers: [...byWorker.values()],
    withDescriptors,
    perBlockUs,
  };
}

export type DecodedTransferColumns = Record<TransferColumn, Float32Array>;

export function decodeTransferColumns(s: NixlTransferSeries): DecodedTransferColumns {
  return Object.fromEntries(TRANSFER_COLUMNS.map((c) => [c, decodeFloat32(s.columns[c], s.count, c)])) as DecodedTransferColumns;
}

/** At most this many bins for transfers over time. */
export const TRANSFER_TIME_BINS = 120;

/**
 * Transfers per second in time bins over the run (x = bin start, seconds). NIXL telemetry carries
 * no timestamps: atS is the collector's read time (every 200 ms), so bins are never finer.
 */
export function transfersOverTime(atS: ArrayLike<number>, maxBins = TRANSFER_TIME_BINS): Array<{ x: number; y: number }> {
  if (atS.length === 0) return [];
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < atS.length; i++) {
    const t = atS[i]!;
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  const width = Math.max(0.2, (hi - lo) / maxBins);
  const n = Math.max(1, Math.ceil((hi - lo) / width + 1e-9));
  const counts = new Array<number>(n).fill(0);
  for (let i = 0; i < atS.length; i++) counts[Math.min(n - 1, Math.floor((atS[i]! - lo) / width))]!++;
  return counts.map((c, i) => ({ x: Math.round((lo + i * width) * 100) / 100, y: c / width }));
}
