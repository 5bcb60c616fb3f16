import { z } from 'zod';

/**
 * One KV transfer as read from NIXL's per-transfer telemetry (reference/vllm-disagg.md §6.1, §3.4):
 * one record per `agent_xfer_time` event, joined with the byte counts of the same transfer.
 * Stored one per line in a run's `transfers.jsonl`.
 */
export const NixlTransferRecord = z.object({
  /** Worker (decode) whose NIXL agent recorded it, as named in the deployment. */
  worker: z.string(),
  /** NIXL agent name (the telemetry file's name). */
  agent: z.string(),
  /** Completion time, milliseconds since the run's originEpochNs (same clock as requests.jsonl). */
  atMs: z.number(),
  /** agent_xfer_time: post → completion, microseconds. */
  durationUs: z.number().nonnegative(),
  /** agent_xfer_post_time when present: start → posted, microseconds. */
  postUs: z.number().nonnegative().nullable(),
  bytes: z.number().int().nonnegative(),
  /** Descriptors in the transfer when the telemetry says so (NIXL may merge, so not a block count). */
  descriptors: z.number().int().nonnegative().nullable(),
  /** bytes ÷ bytes per block per rank (model config, TP, block size). */
  blocks: z.number().nonnegative(),
  /** durationUs ÷ blocks; null when blocks is 0. */
  perBlockUs: z.number().nonnegative().nullable(),
  /** read: agent_rx_bytes (pull mode, D reads from P); write: agent_tx_bytes (push mode). */
  direction: z.enum(['read', 'write']).optional(),
  /**
   * NIXL's version-4 events carry no timestamp: atMs is when the reader found the record. The
   * transfer completed after atEarliestMs (the previous read minus NIXL's flush interval) and
   * before atMs. docs/nixl-telemetry.md.
   */
  atEarliestMs: z.number().optional(),
});
export type NixlTransferRecord = z.infer<typeof NixlTransferRecord>;
