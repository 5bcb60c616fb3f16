import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NixlTransferRecord } from '../common/kv/nixl-transfer';
import { NixlTelemetryCollector } from '../agents/telemetry/nixl-telemetry-collector';
import { readNixlTelemetryFile } from '../agents/telemetry/nixl-telemetry-reader';
import { VLLM_PYTHON, vllmVenvSkipReason } from './real-vllm/real-vllm-env';

/**
 * Handoff's reader against files written by the real NIXL of .venv-vllm (nixl 1.5.1, UCX over
 * DRAM on this machine): e2e/python/nixl_telemetry_xfer.py makes real READ transfers with
 * NIXL_TELEMETRY_ENABLE=1 and prints each transfer's own telemetry (get_xfer_telemetry). The
 * collector reads NIXL's ring while the process runs and must find exactly those transfers, in
 * order; there are more of them than the ring holds, so this also proves that moving read_pos
 * lets real NIXL reuse its slots.
 */

const skip = vllmVenvSkipReason();
if (skip) console.log(`skipping real NIXL telemetry tests: ${skip}`);

const SIZE = 64 * 1024;
const BATCHES = 6;
const PER_BATCH = 200;

describe.skipIf(skip !== null)('NIXL telemetry written by real NIXL 1.5.1', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nixl-real-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads every real transfer with the duration, post time and bytes NIXL reported for it, while NIXL writes', async () => {
    const records: NixlTransferRecord[] = [];
    const notes: string[] = [];
    const c = new NixlTelemetryCollector({ sources: [{ worker: 'local', dir }], bytesPerBlock: SIZE / 4, intervalMs: 50, nowMs: () => Date.now(), emit: (r) => records.push(r), note: (t) => notes.push(t) });
    c.start();
    const child = spawn(VLLM_PYTHON, [path.join(import.meta.dirname, 'python', 'nixl_telemetry_xfer.py'), String(SIZE), String(BATCHES), String(PER_BATCH), '0.15'], {
      env: { ...process.env, NIXL_TELEMETRY_ENABLE: '1', NIXL_TELEMETRY_DIR: dir, NIXL_TELEMETRY_BUFFER_SIZE: '4096' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const summary = await c.stop();
    expect(code, err.slice(-2000)).toBe(0);
    // NIXL logs to stdout too; the script's own lines are JSON objects.
    const reported = out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { xferUs?: number; postUs?: number; bytes?: number; descriptors?: number; done?: boolean })
      .filter((x) => !x.done);
    expect(reported).toHaveLength(BATCHES * PER_BATCH);
    // More transfers than NIXL's 4,096-event ring holds (1,023 batches of four): only consuming keeps them all.
    expect(BATCHES * PER_BATCH * 4).toBeGreaterThan(4096);
    expect(notes).toEqual([]);
    expect(summary).toMatchObject({ transfers: BATCHES * PER_BATCH, files: 2, incomplete: 0, nixlDropped: 0, fullReads: 0 });
    expect(records.map((r) => [r.durationUs, r.postUs, r.bytes])).toEqual(reported.map((x) => [x.xferUs, x.postUs, x.bytes]));
    expect(records.every((r) => r.agent === 'handoff-telemetry-reader' && r.blocks === 4 && r.direction === 'read' && r.perBlockUs === r.durationUs / 4)).toBe(true);

    // The files as NIXL left them: version 4, the size NIXL gave them, everything consumed.
    for (const name of ['handoff-telemetry-reader', 'handoff-telemetry-target']) {
      const f = readNixlTelemetryFile(path.join(dir, name));
      expect(f.header).toMatchObject({ version: 4, capacity: 4096 });
      expect(f.records).toEqual([]);
      expect(fs.statSync(path.join(dir, name)).size).toBe(40 + 16 * 4096);
    }
  }, 240_000);
});
