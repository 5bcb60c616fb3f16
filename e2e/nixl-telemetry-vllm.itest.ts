import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCAL_HOST_NAME } from '../common/host';
import { NixlTransferRecord } from '../common/kv/nixl-transfer';
import { nixlCountersFromValues } from '../common/metrics/kv-transfer';
import { MetricSample } from '../common/run-record';
import { BenchTaskResult, RunDetail, StartRunResult } from '../common/run-view';
import { useControllerFixture } from './harness/controller-fixture-hooks';
import { freePortRun } from './harness/deploy-specs';
import { realVllmSkipReason, TINY_MODEL, VLLM_PYTHON } from './real-vllm/real-vllm-env';
import { disaggregatedSpec } from './real-vllm/real-vllm-specs';

/**
 * transfers.jsonl from the real thing: Handoff deploys vLLM's CPU build with NixlConnector (prefill
 * + decode on this computer, the tiny model), the planner turns NIXL telemetry on for the decode
 * worker, and a short built-in benchmark reads NIXL 1.5.1's ring while vLLM transfers KV. vLLM's
 * own vllm:nixl_* counters come from the same per-transfer NIXL telemetry (get_xfer_telemetry), so
 * the records must add up exactly to the counters' change over the run. Slow (vLLM starts in
 * minutes on two busy cores); skipped with the reason when .venv-vllm or the tiny model is absent.
 */

const skip = realVllmSkipReason();
if (skip) console.log(`skipping the real vLLM NIXL telemetry test: ${skip}`);

describe.skipIf(skip !== null)('NIXL telemetry of a real vLLM P/D deployment', () => {
  const { fx, call } = useControllerFixture(180_000);

  it('writes one transfers.jsonl record per KV read whose durations and bytes add up to the vllm:nixl_* counters', async () => {
    const spec = disaggregatedSpec({ host: LOCAL_HOST_NAME, model: TINY_MODEL, python: VLLM_PYTHON, basePort: await freePortRun(8) });
    const { deployment, task } = await fx().controller.deployments.apply({ specText: JSON.stringify({ ...spec, name: 'real-vllm-telemetry' }) });
    const t = await fx().finish(task);
    expect(t.state, JSON.stringify(t.error)).toBe('succeeded');

    const workload = { preset: 'seed', islMean: 300, oslMean: 4, minTokens: 4, maxTokens: 4, requestCount: 4, warmupRequestCount: 1, concurrency: 1 };
    const started = StartRunResult.parse(await call('runs.start', { deployment: deployment.id, workload }));
    const bt = await fx().finish(started.task);
    expect(bt.state, JSON.stringify(bt.error)).toBe('succeeded');
    const id = BenchTaskResult.parse(bt.result).runIds[0]!;
    const detail = RunDetail.parse(await call('runs.get', { id }));

    const transfers = fs
      .readFileSync(path.join(detail.dir!, 'transfers.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => NixlTransferRecord.parse(JSON.parse(l)));
    console.log(`real vLLM transfers: ${JSON.stringify(transfers.map((r) => ({ us: r.durationUs, postUs: r.postUs, bytes: r.bytes, agent: r.agent })))}`);
    expect(transfers.length).toBeGreaterThanOrEqual(5);
    expect(transfers.every((r) => r.worker === 'decode-0' && r.direction === 'read' && r.bytes > 0 && r.durationUs > 0)).toBe(true);

    const scrapes = fs
      .readFileSync(path.join(detail.dir!, 'samples.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => MetricSample.parse(JSON.parse(l)))
      .flatMap((s) => (s.kind === 'prometheus' && s.source === 'decode-0' ? [nixlCountersFromValues(s.tMs, s.values)] : []))
      .filter((c) => c !== undefined);
    const first = scrapes[0]!;
    const last = scrapes[scrapes.length - 1]!;
    expect(transfers.length).toBe((last.transfers ?? 0) - (first.transfers ?? 0));
    expect(transfers.reduce((a, r) => a + r.bytes, 0)).toBe(last.bytesSum - first.bytesSum);
    expect(Math.abs(transfers.reduce((a, r) => a + r.durationUs, 0) - (last.xferTimeSumS - first.xferTimeSumS) * 1e6)).toBeLessThan(transfers.length);
    await fx().controller.deployments.teardown(deployment.id);
  }, 2_400_000);
});
