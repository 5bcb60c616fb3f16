import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HEADER_BYTES, NixlEventType as T } from '../../common/kv/nixl-telemetry-layout';
import { NixlTransferGrouper } from '../../common/kv/nixl-telemetry-transfers';
import { NixlTransferRecord } from '../../common/kv/nixl-transfer';
import { NixlTelemetryCollector } from './nixl-telemetry-collector';
import { NixlTelemetryFile, readNixlTelemetryFile } from './nixl-telemetry-reader';
import { NixlTelemetryWriter, telemetryCapacityFromEnv } from './nixl-telemetry-writer';

const MIB = 1024 * 1024;
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nixl-tel-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function writeFile(name: string, xfers: Array<{ postUs: number; xferUs: number; bytes: number }>, capacity = 64): string {
  const file = path.join(dir, name);
  const w = new NixlTelemetryWriter(file, capacity);
  for (const x of xfers) w.recordTransfer(x);
  w.close();
  return file;
}

function patch(file: string, offset: number, bytes: number[]): void {
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Uint8Array.from(bytes), 0, bytes.length, offset);
  fs.closeSync(fd);
}

describe('NIXL telemetry reader', () => {
  it('reads the transfers a mocker writer put in the ring, with blocks and per-block latency from bytes per block', () => {
    const file = writeFile('agent-a', [
      { postUs: 10, xferUs: 400, bytes: 4 * MIB },
      { postUs: 12, xferUs: 1000, bytes: 10 * MIB },
    ]);
    const r = readNixlTelemetryFile(file, { worker: 'decode-0', bytesPerBlock: 2 * MIB, atMs: 5 });
    expect(r.header).toMatchObject({ version: 4, capacity: 64, readPos: 0, writePos: 8 });
    expect(r.records).toEqual([
      { worker: 'decode-0', agent: 'agent-a', atMs: 5, durationUs: 400, postUs: 10, bytes: 4 * MIB, descriptors: null, blocks: 2, perBlockUs: 200, direction: 'read' },
      { worker: 'decode-0', agent: 'agent-a', atMs: 5, durationUs: 1000, postUs: 12, bytes: 10 * MIB, descriptors: null, blocks: 5, perBlockUs: 200, direction: 'read' },
    ]);
    for (const rec of r.records) expect(NixlTransferRecord.parse(rec)).toEqual(rec);
  });

  it('reads events that wrap around the end of the ring, and a consuming reader moves read_pos so the writer can reuse slots', () => {
    const file = path.join(dir, 'wrap');
    const w = new NixlTelemetryWriter(file, 16);
    const reader = new NixlTelemetryFile(file, true);
    const seen: number[] = [];
    for (let i = 0; i < 20; i++) {
      w.recordTransfer({ postUs: 1, xferUs: 100 + i, bytes: MIB });
      const p = reader.poll();
      for (let k = 0; k < p.count; k++) if (p.types[k] === T.AGENT_XFER_TIME) seen.push(p.values[k]!);
    }
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => 100 + i));
    expect(w.refused).toBe(0);
    reader.close();
    w.close();
  });

  it('sees a full ring when nobody consumes, as NIXL refuses events then', () => {
    const file = path.join(dir, 'full');
    const w = new NixlTelemetryWriter(file, 16);
    for (let i = 0; i < 5; i++) w.recordTransfer({ postUs: 1, xferUs: 2, bytes: 3 });
    expect(w.refused).toBe(5 * 4 - 15);
    const reader = new NixlTelemetryFile(file, false);
    const p = reader.poll();
    expect(p.full).toBe(true);
    expect(p.count).toBe(15);
    reader.close();
    w.close();
  });

  it('refuses another TELEMETRY_VERSION, naming the version found, the one supported and what to do', () => {
    const file = writeFile('v3', [{ postUs: 1, xferUs: 2, bytes: 3 }]);
    patch(file, 16, [3, 0, 0, 0, 3, 0, 0, 0]);
    expect(() => readNixlTelemetryFile(file)).toThrow(/has TELEMETRY_VERSION 3, but Handoff reads only version 4 \(the layout of NIXL 1\.5\.1\).*Run the workers with a NIXL whose telemetry is version 4/);
  });

  it('refuses a file shorter than its header or than the ring its header names, saying it is truncated', () => {
    const file = writeFile('short', [{ postUs: 1, xferUs: 2, bytes: 3 }]);
    fs.truncateSync(file, 20);
    expect(() => readNixlTelemetryFile(file)).toThrow(/is truncated: it has 20 bytes but the 40-byte header needs 40/);
    const file2 = writeFile('short2', [{ postUs: 1, xferUs: 2, bytes: 3 }]);
    fs.truncateSync(file2, HEADER_BYTES + 16 * 10);
    expect(() => readNixlTelemetryFile(file2)).toThrow(/is truncated: it has 200 bytes but a ring of 64 events needs 1064/);
    const empty = path.join(dir, 'empty');
    fs.writeFileSync(empty, '');
    expect(() => new NixlTelemetryFile(empty, false).poll()).toThrow(/truncated/);
  });

  it('refuses corrupted headers and events rather than misreading them', () => {
    const bad = (name: string, off: number, bytes: number[], msg: RegExp) => {
      const f = writeFile(name, [{ postUs: 1, xferUs: 2, bytes: 3 }]);
      patch(f, off, bytes);
      expect(() => readNixlTelemetryFile(f), name).toThrow(msg);
    };
    bad('cap', 24, [63, 0, 0, 0], /corrupted: capacity 63 is not a power of two/);
    bad('mask', 32, [7, 0, 0, 0], /corrupted: mask 7 does not match capacity 64/);
    bad('wpos', 0, [200, 0, 0, 0], /corrupted: write_pos 200 \/ read_pos 0 outside the ring of 64 slots/);
    bad('huge', 4, [255, 255, 255, 255], /corrupted: write_pos is/);
    bad('type', HEADER_BYTES + 16, [99, 0, 0, 0], /corrupted: event in slot 1 has type 99/);
    bad('expected', 20, [9, 0, 0, 0], /corrupted: expected_version 9 differs from version 4/);
    expect(() => readNixlTelemetryFile(path.join(dir, 'missing'))).toThrow(/Cannot read the NIXL telemetry file .*ENOENT/);
    const zeros = path.join(dir, 'zeros');
    fs.writeFileSync(zeros, new Uint8Array(HEADER_BYTES + 16 * 64));
    expect(() => readNixlTelemetryFile(zeros)).toThrow(/has no header yet \(all zeros\): NIXL has created it but not initialised it/);
  });

  it('ignores the padding bytes NIXL leaves uninitialised between event type and value', () => {
    const file = writeFile('pad', [{ postUs: 5, xferUs: 50, bytes: 2 * MIB }]);
    for (let slot = 0; slot < 4; slot++) patch(file, HEADER_BYTES + slot * 16 + 4, [0x61, 0x72, 0x67, 0x65]);
    expect(readNixlTelemetryFile(file, { bytesPerBlock: MIB }).records[0]).toMatchObject({ durationUs: 50, blocks: 2, perBlockUs: 25 });
  });

  it('groups subsets of the batch (metrics switched off), counts fragments, errors and NIXL-dropped events', () => {
    const file = path.join(dir, 'mixed');
    const w = new NixlTelemetryWriter(file, 64);
    w.push([
      { type: T.AGENT_MEMORY_REGISTERED, value: 1 << 20 },
      { type: T.AGENT_XFER_TIME, value: 300 }, // post time switched off
      { type: T.AGENT_RX_BYTES, value: 3 * MIB },
      { type: T.AGENT_XFER_POST_TIME, value: 9 }, // time switched off: a fragment
      { type: T.AGENT_RX_BYTES, value: MIB },
      { type: T.AGENT_ERR_BACKEND, value: 1 },
      { type: T.AGENT_TELEMETRY_EVENTS_DROPPED, value: 12 },
      { type: T.AGENT_XFER_POST_TIME, value: 4 },
      { type: T.AGENT_XFER_TIME, value: 40 },
      { type: T.AGENT_TX_BYTES, value: MIB },
    ]);
    w.close();
    const r = readNixlTelemetryFile(file, { bytesPerBlock: MIB });
    expect(r.records.map((x) => [x.durationUs, x.postUs, x.blocks, x.direction])).toEqual([
      [300, null, 3, 'read'],
      [40, 4, 1, 'write'],
    ]);
    expect(r.counts).toEqual({ transfers: 2, incomplete: 2, nixlDropped: 12, errors: { agent_err_backend: 1 } });
  });

  it('reads a real NIXL 1.5.1 file image byte for byte (header and events copied from a wheel-written file)', () => {
    // Bytes from nixl-cu12 1.5.1 (NIXL_TELEMETRY_ENABLE=1, one 64 KiB DRAM READ over UCX); padding as NIXL left it.
    const file = path.join(dir, 'real');
    const head = [13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0xff, 0x0f, 0, 0, 0, 0, 0, 0];
    const events = [4, 0, 0, 0, 0x3e, 0x56, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0x61, 0x72, 0x67, 0x65, 0x23, 3, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0x84, 7, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0xfe, 0x7f, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0];
    const img = new Uint8Array(HEADER_BYTES + 16 * 4096);
    img.set(head, 0);
    img.set(events, HEADER_BYTES);
    // Patch write_pos to the five events present here.
    img[0] = 5;
    fs.writeFileSync(file, img);
    const r = readNixlTelemetryFile(file, { bytesPerBlock: 16384 });
    expect(r.records).toEqual([{ worker: '', agent: 'real', atMs: 0, durationUs: 1924, postUs: 803, bytes: 65536, descriptors: null, blocks: 4, perBlockUs: 481, direction: 'read' }]);
  });
});

describe('NIXL telemetry collector', () => {
  it('discards what was there before the run, then turns each new transfer into one record, across TP ranks and files that appear later', async () => {
    const wdir = path.join(dir, 'decode-0');
    const w0 = new NixlTelemetryWriter(path.join(wdir, 'rank0'), 256);
    w0.recordTransfer({ postUs: 1, xferUs: 999, bytes: MIB }); // before the run
    let now = 1000;
    const out: NixlTransferRecord[] = [];
    const notes: string[] = [];
    const c = new NixlTelemetryCollector({ sources: [{ worker: 'decode-0', dir: wdir }, { worker: 'decode-1', dir: path.join(dir, 'nope') }], bytesPerBlock: MIB, intervalMs: 10_000, nowMs: () => now, emit: (r) => out.push(r), note: (t) => notes.push(t) });
    c.start();
    for (let i = 0; i < 30; i++) w0.recordTransfer({ postUs: 1, xferUs: 100, bytes: 2 * MIB });
    const w1 = new NixlTelemetryWriter(path.join(wdir, 'rank1'), 64);
    w1.recordTransfer({ postUs: 1, xferUs: 50, bytes: MIB });
    fs.writeFileSync(path.join(wdir, 'junk'), 'not a ring');
    now = 2000;
    const s = await c.stop();
    expect(out).toHaveLength(31);
    expect(out.every((r) => r.worker === 'decode-0' && r.atMs === 2000 && r.atEarliestMs === 900)).toBe(true);
    expect(out.filter((r) => r.agent === 'rank0').map((r) => r.perBlockUs)).toEqual(Array(30).fill(50));
    expect(s).toMatchObject({ transfers: 31, files: 2, discardedBeforeRun: 4, incomplete: 0 });
    expect(notes.join('\n')).toMatch(/NIXL telemetry not read from .*junk: .*truncated/);
    w0.close();
    w1.close();
  });

  it('waits for the rest of a batch that a read caught mid-flush', () => {
    const file = path.join(dir, 'split');
    const w = new NixlTelemetryWriter(file, 64);
    const reader = new NixlTelemetryFile(file, true);
    const [post, time, bytes, req] = NixlTelemetryWriter.xferEvents({ postUs: 3, xferUs: 30, bytes: MIB });
    const out: NixlTransferRecord[] = [];
    const g = new NixlTransferGrouper({ worker: 'd', agent: 'a', bytesPerBlock: MIB }, (r) => out.push(r));
    w.push([post!, time!]);
    const p1 = reader.poll();
    g.feed(p1.types, p1.values, p1.count);
    expect(out).toHaveLength(0);
    expect(g.pending).toBe(true);
    w.push([bytes!, req!]);
    const p2 = reader.poll();
    g.feed(p2.types, p2.values, p2.count);
    expect(out.map((r) => [r.postUs, r.durationUs, r.bytes])).toEqual([[3, 30, MIB]]);
    expect(g.pending).toBe(false);
    reader.close();
    w.close();
  });
});

describe('NIXL_TELEMETRY_BUFFER_SIZE', () => {
  it('takes NIXL’s default and refuses sizes NIXL would refuse', () => {
    expect(telemetryCapacityFromEnv({})).toBe(4096);
    expect(telemetryCapacityFromEnv({ NIXL_TELEMETRY_BUFFER_SIZE: '65536' })).toBe(65536);
    expect(() => telemetryCapacityFromEnv({ NIXL_TELEMETRY_BUFFER_SIZE: '1000' })).toThrow(/power of two/);
  });
});

