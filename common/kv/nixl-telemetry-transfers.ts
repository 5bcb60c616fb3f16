import { NixlEventType as T, nixlEventName } from './nixl-telemetry-layout';
import type { NixlTransferRecord } from './nixl-transfer';

/**
 * Groups NIXL telemetry events into transfers (docs/nixl-telemetry.md "Matching events").
 *
 * NIXL ≥ 1.4 (src/core/telemetry/telemetry.cpp, nixlTelemetry::addXferStats, called from
 * nixlXferReqH::updateRequestStats when a transfer completes) stages one all-or-nothing batch per
 * completed transfer, in this order: agent_xfer_post_time (µs), agent_xfer_time (µs),
 * agent_rx_bytes (READ) or agent_tx_bytes (WRITE), agent_rx/tx_requests_num (= 1). The batch goes
 * into the staging queue under one lock, so no other event lands inside it; each member can be
 * switched off by NIXL_TELEMETRY_ENABLED_METRICS, and the ring can refuse its tail when full, so
 * the grouper accepts any in-order subset holding agent_xfer_time and the bytes. A batch may also
 * be split across two reads (the reader caught NIXL mid-flush): state carries over between feeds.
 */

export interface TransferGrouperContext {
  worker: string;
  agent: string;
  /** Bytes of one KV block on one decode rank; null when unknown (blocks are then 0). */
  bytesPerBlock: number | null;
}

export interface GrouperCounts {
  transfers: number;
  /** Fragments that could not form a transfer (missing agent_xfer_time or bytes). */
  incomplete: number;
  /** Sum of agent_telemetry_events_dropped: events NIXL lost in its staging queue. */
  nixlDropped: number;
  /** agent_err_* events by name. */
  errors: Record<string, number>;
}

const NONE = -1;

export class NixlTransferGrouper {
  private postUs = NONE;
  private xferUs = NONE;
  private bytes = NONE;
  private write = false;
  private open = false;
  readonly counts: GrouperCounts = { transfers: 0, incomplete: 0, nixlDropped: 0, errors: {} };
  /** Stamped on records emitted by the next feed (see NixlTransferRecord.atMs). */
  atMs = 0;
  atEarliestMs: number | undefined;

  constructor(
    private readonly ctx: TransferGrouperContext,
    private readonly emit: (r: NixlTransferRecord) => void,
  ) {}

  /** Feeds events in ring order. */
  feed(types: ArrayLike<number>, values: ArrayLike<number>, count = types.length): void {
    for (let i = 0; i < count; i++) {
      const type = types[i]!;
      const v = values[i]!;
      switch (type) {
        case T.AGENT_XFER_POST_TIME:
          this.flush();
          this.open = true;
          this.postUs = v;
          break;
        case T.AGENT_XFER_TIME:
          if (this.open && (this.xferUs !== NONE || this.bytes !== NONE)) this.flush();
          this.open = true;
          this.xferUs = v;
          break;
        case T.AGENT_RX_BYTES:
        case T.AGENT_TX_BYTES:
          if (!this.open || this.xferUs === NONE || this.bytes !== NONE) {
            this.flush();
            this.counts.incomplete++;
            break;
          }
          this.bytes = v;
          this.write = type === T.AGENT_TX_BYTES;
          break;
        case T.AGENT_RX_REQUESTS_NUM:
        case T.AGENT_TX_REQUESTS_NUM:
          // The batch's last member: closes it.
          this.flush();
          break;
        case T.AGENT_TELEMETRY_EVENTS_DROPPED:
          this.flush();
          this.counts.nixlDropped += v;
          break;
        case T.AGENT_MEMORY_REGISTERED:
        case T.AGENT_MEMORY_DEREGISTERED:
          this.flush();
          break;
        default: {
          this.flush();
          const name = nixlEventName(type);
          this.counts.errors[name] = (this.counts.errors[name] ?? 0) + 1;
        }
      }
    }
  }

  /** Emits what is pending: at the end of the data, or when the next batch begins. */
  flush(): void {
    if (!this.open) return;
    if (this.xferUs !== NONE && this.bytes !== NONE) {
      const bpb = this.ctx.bytesPerBlock;
      const blocks = bpb !== null && bpb > 0 ? this.bytes / bpb : 0;
      const r: NixlTransferRecord = {
        worker: this.ctx.worker,
        agent: this.ctx.agent,
        atMs: this.atMs,
        durationUs: this.xferUs,
        postUs: this.postUs === NONE ? null : this.postUs,
        bytes: this.bytes,
        descriptors: null,
        blocks,
        perBlockUs: blocks > 0 ? this.xferUs / blocks : null,
        direction: this.write ? 'write' : 'read',
      };
      if (this.atEarliestMs !== undefined) r.atEarliestMs = this.atEarliestMs;
      this.counts.transfers++;
      this.emit(r);
    } else {
      this.counts.incomplete++;
    }
    this.open = false;
    this.postUs = this.xferUs = this.bytes = NONE;
  }

  /**
   * True while a batch has its time and bytes but not yet its closing request count: a read may
   * have caught NIXL mid-flush, so the record waits for the next read (or finish()).
   */
  get pending(): boolean {
    return this.open;
  }
}
