import fs from 'node:fs';
import path from 'node:path';
import { UserFacingError } from '../../common/errors';
import {
  checkNixlFileSize,
  decodeNixlEvents,
  decodeNixlHeader,
  EVENT_BYTES,
  HEADER_BYTES,
  NIXL_HEADER_OFFSETS,
  pendingEvents,
  setU64,
  type NixlBufferHeader,
} from '../../common/kv/nixl-telemetry-layout';
import { NixlTransferGrouper, type GrouperCounts, type TransferGrouperContext } from '../../common/kv/nixl-telemetry-transfers';
import type { NixlTransferRecord } from '../../common/kv/nixl-transfer';

/**
 * Reads one NIXL telemetry cyclic-buffer file (common/kv/nixl-telemetry-layout.ts) as NIXL's own
 * readers do: the events between read_pos and write_pos, then (when consuming) read_pos moved to
 * write_pos so NIXL can reuse the slots. NIXL never overwrites unread events: a full ring makes it
 * drop new ones (sharedRingBuffer::push returns false), so a reader that does not consume sees the
 * first capacity − 1 events and nothing after. The file is a MAP_SHARED mapping of a regular file,
 * so pread/pwrite see and publish the same bytes as NIXL's mmap (one page cache).
 */

export interface NixlPoll {
  header: NixlBufferHeader;
  count: number;
  types: Uint8Array;
  values: Float64Array;
  /** The ring held capacity − 1 events: NIXL may have refused events since the last read. */
  full: boolean;
}

export class NixlTelemetryFile {
  private readonly fd: number;
  private readonly headerBuf = new Uint8Array(HEADER_BYTES);
  private closed = false;

  constructor(
    readonly file: string,
    readonly consume: boolean,
  ) {
    try {
      this.fd = fs.openSync(file, consume ? 'r+' : 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UserFacingError(
        'nixl-telemetry-open',
        `Cannot open the NIXL telemetry file ${file} (${code ?? String(err)}). ${code === 'ENOENT' ? 'NIXL creates it when its agent starts with NIXL_TELEMETRY_DIR set; check the worker started.' : 'Check the file permissions of NIXL_TELEMETRY_DIR.'}`,
      );
    }
  }

  readHeader(): NixlBufferHeader {
    const n = fs.readSync(this.fd, this.headerBuf, 0, HEADER_BYTES, 0);
    const size = fs.fstatSync(this.fd).size;
    const h = decodeNixlHeader(this.headerBuf.subarray(0, n), this.file, size);
    checkNixlFileSize(h, size, this.file);
    return h;
  }

  /** Every unread event; when consuming, they are marked read. */
  poll(): NixlPoll {
    const header = this.readHeader();
    const count = pendingEvents(header);
    const types = new Uint8Array(count);
    const values = new Float64Array(count);
    if (count > 0) {
      const first = Math.min(count, header.capacity - header.readPos);
      this.readSlots(header, header.readPos, first, types, values, 0);
      if (first < count) this.readSlots(header, 0, count - first, types, values, first);
      if (this.consume) this.markRead(header.writePos);
    }
    return { header, count, types, values, full: count === header.capacity - 1 };
  }

  private readSlots(h: NixlBufferHeader, from: number, n: number, types: Uint8Array, values: Float64Array, at: number): void {
    const buf = new Uint8Array(n * EVENT_BYTES);
    const got = fs.readSync(this.fd, buf, 0, buf.length, HEADER_BYTES + from * EVENT_BYTES);
    if (got !== buf.length) throw new UserFacingError('nixl-telemetry-truncated', `The NIXL telemetry file ${this.file} shrank while it was read (${got} of ${buf.length} bytes). Read it again; if it persists, delete it and restart the worker.`);
    decodeNixlEvents(buf, n, 0, n, this.file, { types, values }, at);
  }

  private markRead(pos: number): void {
    const b = new Uint8Array(8);
    setU64(new DataView(b.buffer), 0, pos);
    fs.writeSync(this.fd, b, 0, 8, NIXL_HEADER_OFFSETS.readPos);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
  }
}

export interface NixlFileRead {
  header: NixlBufferHeader;
  records: NixlTransferRecord[];
  counts: GrouperCounts;
  events: number;
}

/**
 * The transfers of one telemetry file as it is now, without consuming anything: for tests,
 * `handoff` tooling and the bench. The whole file is read in one call.
 */
export function readNixlTelemetryFile(file: string, ctx: Partial<TransferGrouperContext> & { atMs?: number } = {}): NixlFileRead {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new UserFacingError('nixl-telemetry-open', `Cannot read the NIXL telemetry file ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)}).`);
  }
  const header = decodeNixlHeader(bytes.subarray(0, HEADER_BYTES), file, bytes.length);
  checkNixlFileSize(header, bytes.length, file);
  const count = pendingEvents(header);
  const types = new Uint8Array(count);
  const values = new Float64Array(count);
  decodeNixlEvents(bytes.subarray(HEADER_BYTES), header.capacity, header.readPos, count, file, { types, values });
  const records: NixlTransferRecord[] = [];
  const g = new NixlTransferGrouper({ worker: ctx.worker ?? '', agent: ctx.agent ?? path.basename(file), bytesPerBlock: ctx.bytesPerBlock ?? null }, (r) => records.push(r));
  g.atMs = ctx.atMs ?? 0;
  g.feed(types, values, count);
  g.flush();
  return { header, records, counts: g.counts, events: count };
}
