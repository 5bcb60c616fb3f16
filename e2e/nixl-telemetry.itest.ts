import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { LOCAL_HOST_NAME } from '../common/host';
import { decodeTransferColumns } from '../common/kv/nixl-transfer-series';
import { NixlTransferRecord } from '../common/kv/nixl-transfer';
import { PackedRunSeries } from '../common/run-series';
import { BenchTaskResult, RunDetail, StartRunResult } from '../common/run-view';
import { readNixlTelemetryFile } from '../agents/telemetry/nixl-telemetry-reader';
import { useControllerFixture } from './harness/controller-fixture-hooks';
import { exampleSpec } from './harness/deploy-specs';

/**
 * NIXL per-transfer telemetry end to end, with real processes: the controller plans a mocker P/D
 * deployment (telemetry on for the decode worker), the agent daemon starts it, the mocker writes
 * NIXL's version-4 cyclic buffer for every simulated transfer, the benchmark's collector reads it
 * into transfers.jsonl, the controller collects the run, and runs.series hands the run view one
 * per-block latency per transfer. The mocker is told 250 µs per block and no fixed cost, so every
 * transfer must read back as 250 µs per block (NIXL records whole microseconds).
 */

const PER_BLOCK_US = 250;
const SMALL_SEED = { preset: 'seed' as const, islMean: 256, oslMean: 8, minTokens: 8, maxTokens: 8, requestCount: 12, warmupRequestCount: 2 };

describe('NIXL per-transfer telemetry from a mocker P/D deployment', () => {
  const { fx, call } = useControllerFixture(120_000);

  it('records one transfer per simulated KV read in transfers.jsonl, with the per-block latency the mocker was configured for', async () => {
    const { text } = await exampleSpec({ prefill: LOCAL_HOST_NAME, decode: LOCAL_HOST_NAME });
    const spec = YAML.parse(text) as Record<string, unknown>;
    spec.name = 'nixl-telemetry';
    const mocker = (spec.mocker ?? {}) as Record<string, unknown>;
    mocker.options = { ...((mocker.options as Record<string, unknown> | undefined) ?? {}), transferPerBlockUs: PER_BLOCK_US, transferBaseMs: 0 };
    spec.mocker = mocker;
    const { deployment, task } = await fx().controller.deployments.apply({ specText: YAML.stringify(spec) });
    const t = await fx().finish(task);
    expect(t.state, JSON.stringify(t.error)).toBe('succeeded');

    const started = StartRunResult.parse(await call('runs.start', { deployment: deployment.id, workload: SMALL_SEED }));
    const bt = await fx().finish(started.task);
    expect(bt.state, JSON.stringify(bt.error)).toBe('succeeded');
    const id = BenchTaskResult.parse(bt.result).runIds[0]!;
    const detail = RunDetail.parse(await call('runs.get', { id }));

    const lines = fs.readFileSync(path.join(detail.dir!, 'transfers.jsonl'), 'utf8').split('\n').filter(Boolean);
    const transfers = lines.map((l) => NixlTransferRecord.parse(JSON.parse(l)));
    // The seed example decodes with TP=2: each request's KV is read by both decode ranks, one NIXL agent (file) each.
    // Warmup requests' transfers count too (the run's collector starts before the warmup).
    const rank0 = transfers.filter((r) => r.agent.endsWith('-rank0'));
    const rank1 = transfers.filter((r) => r.agent.endsWith('-rank1'));
    expect(rank0.length + rank1.length).toBe(transfers.length);
    expect(rank0.length).toBe(rank1.length);
    expect(rank0.length).toBeGreaterThanOrEqual(12);
    expect(rank0.length).toBeLessThanOrEqual(14);
    for (const r of transfers) {
      expect(r.worker).toBe('decode-0');
      expect(r.agent).toMatch(/^mocker-.*-rank[01]$/);
      expect(r.direction).toBe('read');
      expect(r.blocks).toBeGreaterThan(0);
      expect(Number.isInteger(r.blocks)).toBe(true);
      expect(r.perBlockUs).toBeCloseTo(PER_BLOCK_US, 0);
      expect(r.durationUs).toBe(Math.round(r.blocks * PER_BLOCK_US));
    }

    const series = PackedRunSeries.parse(await call('runs.series', { id }));
    expect(series.nixlTransfers?.count).toBe(transfers.length);
    expect(series.nixlTransfers?.workers.map((w) => w.worker)).toEqual(['decode-0']);
    expect(series.nixlTransfers?.workers[0]!.perBlockUs).toBeCloseTo(PER_BLOCK_US, 3);
    const cols = decodeTransferColumns(series.nixlTransfers!);
    expect(Array.from(cols.perBlockUs).every((v) => Math.abs(v - PER_BLOCK_US) < 0.5)).toBe(true);
    // The vllm:nixl_* aggregate of the same worker agrees with the telemetry (the same simulated transfers).
    const agg = series.kvTransfer.find((k) => k.source === 'decode-0');
    if (agg?.runMsPerBlock != null) expect(agg.runMsPerBlock * 1000).toBeCloseTo(PER_BLOCK_US, 0);

    // The worker's ring on disk is a NIXL version-4 file that the standalone reader parses too, fully consumed by the run.
    const dir = (await fx().controller.deployments.resolve(deployment.id)).plan.processes.find((p) => p.name === 'decode-0')!.env['NIXL_TELEMETRY_DIR']!;
    expect(dir).toMatch(/\/deployments\/.+\/nixl-telemetry\/decode-0$/);
    const files = fs.readdirSync(dir).sort();
    expect(files.map((f) => f.replace(/^mocker-.*-(rank\d)$/, '$1'))).toEqual(['rank0', 'rank1']);
    for (const name of files) {
      const f = readNixlTelemetryFile(path.join(dir, name));
      expect(f.header).toMatchObject({ version: 4, capacity: 65536 });
      expect(f.header.readPos).toBe(f.header.writePos);
    }
    await fx().controller.deployments.teardown(deployment.id);
  }, 400_000);
});
