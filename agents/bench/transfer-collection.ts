import path from 'node:path';
import { TRANSFERS_JSONL } from '../../common/run-record';
import { PARTIAL_SUFFIX, JsonlAppender } from './run-store';
import { NixlTelemetryCollector, type TelemetrySource } from '../telemetry/nixl-telemetry-collector';

/**
 * transfers.jsonl of a run: the NIXL telemetry collector (agents/telemetry) running beside the
 * metrics sampler, one NixlTransferRecord per line, notes for what it could not read.
 */

export const TRANSFERS_FILE = TRANSFERS_JSONL;
/**
 * NIXL's version-4 events carry no timestamp: a transfer is dated by the read that finds it, so the
 * interval is the width of its completion window, which is what ties transfers to requests in the
 * waterfall. 20 ms keeps that window narrower than a typical prefill→first-token handoff, for a
 * pread of a 40-byte header per file per tick; far inside what a 65,536-event ring holds.
 */
const READ_INTERVAL_MS = 20;

export interface TransferCollection {
  stop(): Promise<void>;
}

export function startTransferCollection(
  sources: readonly TelemetrySource[],
  runDir: string,
  bytesPerBlock: () => number | null,
  nowMs: () => number,
  note: (text: string) => void,
): TransferCollection | null {
  if (sources.length === 0) return null;
  const out = new JsonlAppender(path.join(runDir, `${TRANSFERS_FILE}${PARTIAL_SUFFIX}`), 500);
  const bpb = bytesPerBlock();
  if (bpb === null) note('NIXL telemetry is read, but the KV block size is unknown (pass kvBlock), so transfers.jsonl has no block counts.');
  const c = new NixlTelemetryCollector({ sources, bytesPerBlock: bpb, intervalMs: READ_INTERVAL_MS, nowMs, emit: (r) => out.append(JSON.stringify(r)), note });
  c.start();
  let stopped: Promise<void> | null = null;
  return {
    stop() {
      stopped ??= c.stop().then((s) => {
        out.close();
        if (s.files === 0) note(`No NIXL telemetry file appeared in ${sources.map((x) => x.dir).join(', ')}: the decode workers' NIXL did not write telemetry (NIXL older than 1.4, or NIXL_TELEMETRY_* overridden in the spec's env).`);
        else if (s.incomplete > 0 || s.nixlDropped > 0 || s.fullReads > 0) note(`NIXL telemetry: ${s.transfers} transfers read; ${s.incomplete} incomplete event groups, ${s.nixlDropped} events NIXL reported dropped, ${s.fullReads} reads found the ring full.`);
        const errs = Object.entries(s.errors);
        if (errs.length) note(`NIXL reported transfer errors: ${errs.map(([k, v]) => `${k} ×${v}`).join(', ')}.`);
      });
      return stopped;
    },
  };
}
