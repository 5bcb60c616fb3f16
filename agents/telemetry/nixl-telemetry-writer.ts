import fs from 'node:fs';
import path from 'node:path';
import {
  encodeNixlEvents,
  encodeNixlHeader,
  EVENT_BYTES,
  HEADER_BYTES,
  NIXL_HEADER_OFFSETS,
  NixlEventType,
  nixlFileBytes,
  setU64,
} from '../../common/kv/nixl-telemetry-layout';
import { UserFacingError } from '../../common/errors';

/**
 * Writes a NIXL telemetry cyclic-buffer file (version 4) the way NIXL's buffer exporter does, so
 * the mocker exercises the same reader as real workers (docs/nixl-telemetry.md). Single producer:
 * events go into free slots, then write_pos is published; a full ring refuses the rest
 * (sharedRingBuffer::push), which is how NIXL loses events when nobody reads.
 */

export const NIXL_TELEMETRY_DEFAULT_CAPACITY = 4096;

export interface XferTelemetry {
  postUs: number;
  xferUs: number;
  bytes: number;
  write?: boolean;
}

export class NixlTelemetryWriter {
  private readonly fd: number;
  private writePos = 0;
  private readonly mask: number;
  /** Events the full ring refused. */
  refused = 0;

  constructor(
    readonly file: string,
    readonly capacity = NIXL_TELEMETRY_DEFAULT_CAPACITY,
  ) {
    const header = encodeNixlHeader(capacity);
    this.mask = capacity - 1;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.fd = fs.openSync(file, 'w+', 0o644);
    fs.ftruncateSync(this.fd, nixlFileBytes(capacity));
    fs.writeSync(this.fd, header, 0, header.length, 0);
  }

  /** The events NIXL's addXferStats stages for one completed transfer, in its order. */
  static xferEvents(x: XferTelemetry): Array<{ type: number; value: number }> {
    return [
      { type: NixlEventType.AGENT_XFER_POST_TIME, value: x.postUs },
      { type: NixlEventType.AGENT_XFER_TIME, value: x.xferUs },
      { type: x.write ? NixlEventType.AGENT_TX_BYTES : NixlEventType.AGENT_RX_BYTES, value: x.bytes },
      { type: x.write ? NixlEventType.AGENT_TX_REQUESTS_NUM : NixlEventType.AGENT_RX_REQUESTS_NUM, value: 1 },
    ];
  }

  recordTransfer(x: XferTelemetry): void {
    this.push(NixlTelemetryWriter.xferEvents(x));
  }

  /** Appends events until the ring is full; returns how many went in. */
  push(events: ReadonlyArray<{ type: number; value: number }>): number {
    const rp = new Uint8Array(8);
    fs.readSync(this.fd, rp, 0, 8, NIXL_HEADER_OFFSETS.readPos);
    const v = new DataView(rp.buffer);
    const readPos = v.getUint32(0, true) + v.getUint32(4, true) * 0x1_0000_0000;
    const used = (this.writePos - readPos) & this.mask;
    const free = this.capacity - 1 - used;
    const n = Math.min(free, events.length);
    this.refused += events.length - n;
    if (n === 0) return 0;
    const bytes = encodeNixlEvents(events.slice(0, n));
    const first = Math.min(n, this.capacity - this.writePos);
    fs.writeSync(this.fd, bytes, 0, first * EVENT_BYTES, HEADER_BYTES + this.writePos * EVENT_BYTES);
    if (first < n) fs.writeSync(this.fd, bytes, first * EVENT_BYTES, (n - first) * EVENT_BYTES, HEADER_BYTES);
    this.writePos = (this.writePos + n) & this.mask;
    const wp = new Uint8Array(8);
    setU64(new DataView(wp.buffer), 0, this.writePos);
    // Published after the events, as NIXL stores write_pos with release order.
    fs.writeSync(this.fd, wp, 0, 8, NIXL_HEADER_OFFSETS.writePos);
    return n;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

/** NIXL_TELEMETRY_BUFFER_SIZE as NIXL reads it: events, a power of two. */
export function telemetryCapacityFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env['NIXL_TELEMETRY_BUFFER_SIZE'];
  if (raw === undefined || raw === '') return NIXL_TELEMETRY_DEFAULT_CAPACITY;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 2 || (n & (n - 1)) !== 0 || n > 2 ** 30) {
    throw new UserFacingError('nixl-telemetry-capacity', `NIXL_TELEMETRY_BUFFER_SIZE must be a power of two between 2 and 2^30 (NIXL refuses other sizes), got "${raw}".`);
  }
  return n;
}

/** NIXL_TELEMETRY_ENABLE values NIXL accepts as on (docs/telemetry.md). */
export function telemetryEnabled(env: NodeJS.ProcessEnv): boolean {
  return /^(y|yes|on|true|enable|1)$/i.test(env['NIXL_TELEMETRY_ENABLE'] ?? '');
}
