/**
 * Reading NIXL telemetry for 100,000 transfers (issue 9, "Figure": < 1 s). One version-4 ring
 * file as the mocker and real NIXL write it (four events per transfer, 400,000 events, 2^19 slots,
 * 8 MiB), read from disk, decoded and grouped into 100,000 NixlTransferRecords; and the same plus
 * one transfers.jsonl line each, as the run collector does. The baseline is a raw Buffer scan of
 * the same file (read it, sum every event's type and value): the floor any reader pays. Best of
 * three; CPU time beside wall time, since on a shared 2-core machine wall time also measures the
 * other processes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { readNixlTelemetryFile } from '../agents/telemetry/nixl-telemetry-reader';
import { NixlTelemetryWriter } from '../agents/telemetry/nixl-telemetry-writer';
import type { BenchRow } from './bench-row';

const TRANSFERS = 100_000;
const CAPACITY = 1 << 19;
const BYTES_PER_BLOCK = 2 * 1024 * 1024;

function writeRing(file: string): void {
  const w = new NixlTelemetryWriter(file, CAPACITY);
  const events: Array<{ type: number; value: number }> = [];
  for (let i = 0; i < TRANSFERS; i++) {
    const blocks = 1 + (i % 188);
    events.push(...NixlTelemetryWriter.xferEvents({ postUs: 20 + (i % 7), xferUs: 50 + blocks * 6 + (i % 13), bytes: blocks * BYTES_PER_BLOCK }));
  }
  if (w.push(events) !== events.length) throw new Error('the bench ring is too small');
  w.close();
}

function rawScan(file: string): number {
  const b = fs.readFileSync(file);
  const n = Number(b.readBigUInt64LE(0));
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const off = 40 + i * 16;
    sum += b.readUInt32LE(off) + b.readUInt32LE(off + 8) + b.readUInt32LE(off + 12) * 0x1_0000_0000;
  }
  return sum;
}

function best(fn: () => unknown): { wallMs: number; cpuMs: number } {
  let wallMs = Infinity;
  let cpuMs = Infinity;
  for (let k = 0; k < 3; k++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    wallMs = Math.min(wallMs, wall);
    cpuMs = Math.min(cpuMs, (c.user + c.system) / 1000);
  }
  return { wallMs, cpuMs };
}

export async function benchNixlTelemetry(): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-nixl-tel-'));
  try {
    const file = path.join(dir, 'agent');
    writeRing(file);
    let count = 0;
    const read = best(() => {
      count = readNixlTelemetryFile(file, { worker: 'decode-0', bytesPerBlock: BYTES_PER_BLOCK }).records.length;
    });
    if (count !== TRANSFERS) throw new Error(`read ${count} transfers, expected ${TRANSFERS}`);
    const jsonl = best(() => {
      const lines = readNixlTelemetryFile(file, { worker: 'decode-0', bytesPerBlock: BYTES_PER_BLOCK }).records.map((r) => JSON.stringify(r));
      fs.writeFileSync(path.join(dir, 'transfers.jsonl'), lines.join('\n') + '\n');
    });
    const raw = best(() => rawScan(file));
    const load = os.loadavg()[0]!.toFixed(1);
    return [
      { figure: `read + group NIXL telemetry, ${TRANSFERS.toLocaleString('en-US')} transfers, wall (load ${load})`, value: read.wallMs, unit: 'ms', goal: '< 1000 ms', baseline: raw.wallMs, baselineLabel: 'raw Buffer scan of the same file, wall' },
      { figure: 'read + group, CPU time', value: read.cpuMs, unit: 'ms', goal: '< 1000 ms', baseline: raw.cpuMs, baselineLabel: 'raw Buffer scan, CPU time' },
      { figure: 'read + group + write transfers.jsonl, wall', value: jsonl.wallMs, unit: 'ms', goal: 'none (the agent writes as it reads)', baseline: raw.wallMs, baselineLabel: 'raw Buffer scan of the same file, wall' },
      { figure: 'read + group + write transfers.jsonl, CPU time', value: jsonl.cpuMs, unit: 'ms', goal: 'none', baseline: raw.cpuMs, baselineLabel: 'raw Buffer scan, CPU time' },
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
