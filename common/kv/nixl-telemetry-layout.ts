import { UserFacingError } from '../errors';

/**
 * The binary layout of NIXL's telemetry cyclic-buffer file (docs/nixl-telemetry.md), as NIXL
 * 1.5.1 writes it: TELEMETRY_VERSION 4. Facts from ai-dynamo/nixl src/utils/common/cyclic_buffer.h
 * (sharedRingBuffer<T>::bufferHeader) and src/core/telemetry/telemetry_event.h
 * (nixlTelemetryEvent, nixl_telemetry_event_type_t), checked byte by byte against files written
 * by the nixl 1.5.1 wheel. Little-endian x86-64 / aarch64, natural alignment.
 *
 * Pure: works on Uint8Array so both the agent (files) and tests (memory) use it.
 */

export const NIXL_TELEMETRY_VERSION = 4;
/** The NIXL release whose files this layout was checked against. */
export const NIXL_TELEMETRY_CHECKED_RELEASE = '1.5.1';

/** write_pos u64 @0, read_pos u64 @8, version i32 @16, expected_version i32 @20, capacity u64 @24, mask u64 @32. */
export const HEADER_BYTES = 40;
/** event type u32 @0, 4 bytes padding (not initialised by NIXL), value u64 @8. */
export const EVENT_BYTES = 16;

const OFF_WRITE = 0;
const OFF_READ = 8;
const OFF_VERSION = 16;
const OFF_EXPECTED = 20;
const OFF_CAPACITY = 24;
const OFF_MASK = 32;

/** nixl_telemetry_event_type_t (telemetry_event.h), values as in the enum. */
export const NixlEventType = {
  AGENT_TX_BYTES: 0,
  AGENT_RX_BYTES: 1,
  AGENT_TX_REQUESTS_NUM: 2,
  AGENT_RX_REQUESTS_NUM: 3,
  AGENT_MEMORY_REGISTERED: 4,
  AGENT_MEMORY_DEREGISTERED: 5,
  AGENT_XFER_TIME: 6,
  AGENT_XFER_POST_TIME: 7,
  AGENT_ERR_NOT_POSTED: 8,
  AGENT_ERR_INVALID_PARAM: 9,
  AGENT_ERR_BACKEND: 10,
  AGENT_ERR_NOT_FOUND: 11,
  AGENT_ERR_MISMATCH: 12,
  AGENT_ERR_NOT_ALLOWED: 13,
  AGENT_ERR_REPOST_ACTIVE: 14,
  AGENT_ERR_UNKNOWN: 15,
  AGENT_ERR_NOT_SUPPORTED: 16,
  AGENT_ERR_REMOTE_DISCONNECT: 17,
  AGENT_ERR_CANCELED: 18,
  AGENT_ERR_NO_TELEMETRY: 19,
  AGENT_TELEMETRY_EVENTS_DROPPED: 20,
} as const;
export const NIXL_EVENT_TYPE_COUNT = 21;

const EVENT_NAMES: readonly string[] = Object.entries(NixlEventType)
  .sort((a, b) => a[1] - b[1])
  .map(([k]) => k.toLowerCase());

/** The event's name as NIXL prints it (`agent_xfer_time`, …); `unknown_event_<n>` beyond the enum. */
export function nixlEventName(type: number): string {
  return EVENT_NAMES[type] ?? `unknown_event_${type}`;
}

export interface NixlBufferHeader {
  writePos: number;
  readPos: number;
  version: number;
  expectedVersion: number;
  /** Ring slots; a power of two. The ring holds at most capacity − 1 events (one slot stays empty). */
  capacity: number;
  mask: number;
}

function u64(view: DataView, off: number, what: string, file: string): number {
  const lo = view.getUint32(off, true);
  const hi = view.getUint32(off + 4, true);
  if (hi >= 0x200000) throw corrupt(file, `${what} is ${hi} × 2^32 + ${lo}, far beyond any real buffer`);
  return hi * 0x1_0000_0000 + lo;
}

function corrupt(file: string, detail: string): UserFacingError {
  return new UserFacingError(
    'nixl-telemetry-corrupt',
    `The NIXL telemetry file ${file} is corrupted: ${detail}. It was not read. If a NIXL process is still creating it, read it again in a moment; otherwise delete it and let NIXL create a new one (it does so when its agent starts).`,
  );
}

function truncated(file: string, size: number, need: number, what: string): UserFacingError {
  return new UserFacingError(
    'nixl-telemetry-truncated',
    `The NIXL telemetry file ${file} is truncated: it has ${size} bytes but ${what} needs ${need}. It was not read. The file may have been copied while NIXL was creating it, or cut short; copy it again from the worker's NIXL_TELEMETRY_DIR.`,
  );
}

/**
 * Reads and checks the header. Refuses every TELEMETRY_VERSION but the one this layout knows, since
 * each version changed the record (timestamp, name and category fields were removed in 2 → 4).
 */
export function decodeNixlHeader(bytes: Uint8Array, file: string, fileBytes = bytes.length): NixlBufferHeader {
  if (bytes.length < HEADER_BYTES) throw truncated(file, fileBytes, HEADER_BYTES, 'the 40-byte header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const version = view.getInt32(OFF_VERSION, true);
  if (version === 0 && view.getUint32(OFF_CAPACITY, true) === 0) {
    // createCyclicBuffer: open(O_CREAT), ftruncate (zeros), then the header; a reader can land in between.
    throw new UserFacingError('nixl-telemetry-uninitialised', `The NIXL telemetry file ${file} has no header yet (all zeros): NIXL has created it but not initialised it. Read it again in a moment; if it stays so, the NIXL process died while creating it.`);
  }
  if (version !== NIXL_TELEMETRY_VERSION) {
    throw new UserFacingError(
      'nixl-telemetry-version',
      `The NIXL telemetry file ${file} has TELEMETRY_VERSION ${version}, but Handoff reads only version ${NIXL_TELEMETRY_VERSION} (the layout of NIXL ${NIXL_TELEMETRY_CHECKED_RELEASE}); its records were not read. ` +
        `Run the workers with a NIXL whose telemetry is version ${NIXL_TELEMETRY_VERSION} (pip show nixl on the host; 1.4.0 to ${NIXL_TELEMETRY_CHECKED_RELEASE} write it), or update Handoff if it has a reader for version ${version}. ` +
        `The per-block latency from vllm:nixl_* counters is still shown.`,
    );
  }
  const expectedVersion = view.getInt32(OFF_EXPECTED, true);
  const capacity = u64(view, OFF_CAPACITY, 'capacity', file);
  const mask = u64(view, OFF_MASK, 'mask', file);
  const writePos = u64(view, OFF_WRITE, 'write_pos', file);
  const readPos = u64(view, OFF_READ, 'read_pos', file);
  if (capacity < 2 || (capacity & (capacity - 1)) !== 0 || capacity > 2 ** 30) throw corrupt(file, `capacity ${capacity} is not a power of two between 2 and 2^30`);
  if (mask !== capacity - 1) throw corrupt(file, `mask ${mask} does not match capacity ${capacity}`);
  if (writePos >= capacity || readPos >= capacity) throw corrupt(file, `write_pos ${writePos} / read_pos ${readPos} outside the ring of ${capacity} slots`);
  if (expectedVersion !== version) throw corrupt(file, `expected_version ${expectedVersion} differs from version ${version}`);
  return { writePos, readPos, version, expectedVersion, capacity, mask };
}

/** Total file size NIXL creates for a ring of `capacity` events (ftruncate in createCyclicBuffer). */
export function nixlFileBytes(capacity: number): number {
  return HEADER_BYTES + EVENT_BYTES * capacity;
}

/** Events waiting in the ring, between read_pos and write_pos. */
export function pendingEvents(h: Pick<NixlBufferHeader, 'writePos' | 'readPos' | 'mask'>): number {
  return (h.writePos - h.readPos) & h.mask;
}

/** Throws unless the file holds every slot its header names. */
export function checkNixlFileSize(h: NixlBufferHeader, fileBytes: number, file: string): void {
  const need = nixlFileBytes(h.capacity);
  if (fileBytes < need) throw truncated(file, fileBytes, need, `a ring of ${h.capacity} events`);
}

/**
 * Decodes `count` events starting at ring slot `from` (wrapping) from the event area (the bytes
 * after the header) into parallel arrays. Event types beyond the enum mean the bytes are not a
 * version-4 ring (or were overwritten): refused as corrupted rather than misread.
 */
export function decodeNixlEvents(area: Uint8Array, capacity: number, from: number, count: number, file: string, out: { types: Uint8Array; values: Float64Array }, outOffset = 0): void {
  const view = new DataView(area.buffer, area.byteOffset, area.byteLength);
  let slot = from;
  for (let i = 0; i < count; i++) {
    const off = slot * EVENT_BYTES;
    const type = view.getUint32(off, true);
    if (type >= NIXL_EVENT_TYPE_COUNT) throw corrupt(file, `event in slot ${slot} has type ${type}, not one of NIXL's ${NIXL_EVENT_TYPE_COUNT} event types`);
    const lo = view.getUint32(off + 8, true);
    const hi = view.getUint32(off + 12, true);
    out.types[outOffset + i] = type;
    out.values[outOffset + i] = hi * 0x1_0000_0000 + lo;
    slot = slot + 1 === capacity ? 0 : slot + 1;
  }
}

/** A fresh, empty version-4 file image as NIXL's createCyclicBuffer leaves it. */
export function encodeNixlHeader(capacity: number, version = NIXL_TELEMETRY_VERSION): Uint8Array {
  if (capacity < 2 || (capacity & (capacity - 1)) !== 0) throw new UserFacingError('nixl-telemetry-capacity', `NIXL_TELEMETRY_BUFFER_SIZE must be a power of two of at least 2, got ${capacity}.`);
  const b = new Uint8Array(HEADER_BYTES);
  const v = new DataView(b.buffer);
  v.setInt32(OFF_VERSION, version, true);
  v.setInt32(OFF_EXPECTED, version, true);
  setU64(v, OFF_CAPACITY, capacity);
  setU64(v, OFF_MASK, capacity - 1);
  return b;
}

export function setU64(v: DataView, off: number, value: number): void {
  v.setUint32(off, value % 0x1_0000_0000, true);
  v.setUint32(off + 4, Math.floor(value / 0x1_0000_0000), true);
}

/** Events as NIXL lays them out in consecutive slots (the caller wraps at the ring's end). */
export function encodeNixlEvents(events: ReadonlyArray<{ type: number; value: number }>): Uint8Array {
  const b = new Uint8Array(events.length * EVENT_BYTES);
  const v = new DataView(b.buffer);
  events.forEach((e, i) => {
    v.setUint32(i * EVENT_BYTES, e.type, true);
    setU64(v, i * EVENT_BYTES + 8, Math.max(0, Math.round(e.value)));
  });
  return b;
}

export const NIXL_HEADER_OFFSETS = { writePos: OFF_WRITE, readPos: OFF_READ, version: OFF_VERSION, capacity: OFF_CAPACITY } as const;

/** NIXL flushes staged events to the file every NIXL_TELEMETRY_RUN_INTERVAL (100 ms by default). */
export const NIXL_FLUSH_INTERVAL_MS = 100;

/** The flush interval a worker's environment gives NIXL (integer milliseconds, as NIXL parses it). */
export function nixlFlushIntervalMs(env: Readonly<Record<string, string>>): number {
  const v = Number(env['NIXL_TELEMETRY_RUN_INTERVAL']);
  return Number.isInteger(v) && v > 0 ? v : NIXL_FLUSH_INTERVAL_MS;
}
