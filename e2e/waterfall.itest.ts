import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_HOST_NAME } from '../common/host';
import { RequestRecord } from '../common/run-record';
import { BenchTaskResult, RunDetail, StartRunResult } from '../common/run-view';
import { phasesTotalMs, RunWaterfall } from '../common/waterfall';
import { startControllerFixture, type ControllerFixture } from './harness/controller-fixture';
import { exampleSpec } from './harness/deploy-specs';

/**
 * The per-request waterfall end to end: a mocker P/D deployment on this computer deployed by the
 * real controller and agent daemon, benchmarked with the built-in load generator, and read back
 * through runs.waterfall. Every request's phases must add up to the TTFT the load generator
 * measured (requests.jsonl), and the disaggregation panel must tell a working deployment from one
 * whose router prefills every prompt on the decode worker.
 */

/** The seed preset made small for a 2-core machine (as e2e/runs.itest.ts). */
const SMALL_SEED = { preset: 'seed' as const, islMean: 256, oslMean: 16, minTokens: 16, maxTokens: 16, requestCount: 12, warmupRequestCount: 2 };

describe('per-request waterfall of benchmarks on mocker P/D deployments', () => {
  let fx: ControllerFixture;
  const call = async <T>(method: string, params: unknown): Promise<T> => (await fx.controller.handle(method, params)) as T;

  async function deploy(mutate: (spec: Record<string, unknown>) => void): Promise<string> {
    const { text } = await exampleSpec({ prefill: LOCAL_HOST_NAME, decode: LOCAL_HOST_NAME });
    const spec = YAML.parse(text) as Record<string, unknown>;
    mutate(spec);
    const { deployment, task } = await fx.controller.deployments.apply({ specText: YAML.stringify(spec) });
    const t = await fx.finish(task);
    expect(t.state, JSON.stringify(t.error)).toBe('succeeded');
    return deployment.id;
  }

  async function bench(deployment: string): Promise<string> {
    const started = StartRunResult.parse(await call('runs.start', { deployment, workload: SMALL_SEED }));
    const t = await fx.finish(started.task);
    expect(t.state, JSON.stringify(t.error)).toBe('succeeded');
    return BenchTaskResult.parse(t.result).runIds[0]!;
  }

  beforeAll(async () => {
    fx = await startControllerFixture();
  }, 120_000);

  afterAll(async () => {
    for (const d of fx ? await fx.controller.deployments.list() : []) await fx.controller.deployments.teardown(d.id).catch(() => undefined);
    await fx?.close();
  }, 120_000);

  it('splits every request of a disaggregated run into phases that add up to its measured TTFT within 1 ms, and says disaggregation is happening', async () => {
    const dep = await deploy((s) => (s.name = 'waterfall-disagg'));
    const id = await bench(dep);
    const detail = RunDetail.parse(await call('runs.get', { id }));
    const records = fs
      .readFileSync(path.join(detail.dir!, 'requests.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => RequestRecord.parse(JSON.parse(l)))
      .filter((r) => r.phase !== 'warmup');
    expect(records).toHaveLength(12);

    const run = RunWaterfall.parse(await call('runs.waterfall', { id }));
    expect(run.requests).toBe(12);
    expect(run.traced).toBe(12);
    expect(run.maxSumErrorMs).toBeLessThan(1);
    console.log(`[waterfall] ${run.requests} requests: max |Σ phases − TTFT| ${run.maxSumErrorMs!.toExponential(2)} ms; NIXL transfers ${run.transfers.matched} matched, ${run.transfers.ambiguous} ambiguous, ${run.transfers.orphan} unmatched of ${run.transfers.total}`);
    expect(run.disaggregation.status).toBe('ok');
    expect(run.disaggregation.remoteRatio).toBe(1);
    expect(run.disaggregation.decodeExternalKvTokens).toBeGreaterThan(0);
    expect(run.disaggregation.kvBytes).toBeGreaterThan(0);
    expect(run.disaggregation.messages[0]).toMatch(/Disaggregation is working/);
    const all = run.breakdowns.find((b) => b.group === 'all')!;
    expect(all.phases.map((p) => p.id)).toEqual(expect.arrayContaining(['prefill', 'kv-transfer']));
    expect(all.phases.reduce((a, p) => a + p.meanMs, 0)).toBeCloseTo(all.meanTtftMs, 6);

    // Each request, asked for by id: its phases partition send → first token as the client measured it.
    for (const r of records) {
      const w = RunWaterfall.parse(await call('runs.waterfall', { id, requestId: r.id })).request!;
      const measured = (r.firstTokenNs! - r.sendNs) / 1e6;
      expect(w.ttftMs).toBeCloseTo(measured, 9);
      expect(Math.abs(phasesTotalMs(w) - measured), `${r.id}: ${JSON.stringify(w.phases)}`).toBeLessThan(1);
      expect(w.placement).toBe('remote');
      const ids = w.phases.map((p) => p.id);
      expect(ids).toEqual(expect.arrayContaining(['prefill', 'kv-transfer', 'decode']));
      expect(w.phases.find((p) => p.id === 'prefill')!.durationMs).toBeGreaterThan(0);
    }
    await fx.controller.deployments.teardown(dep);
  }, 400_000);

  it('turns the panel red when the remote-prefill rule sends every prompt to the decode worker', async () => {
    const dep = await deploy((s) => {
      s.name = 'waterfall-bypass';
      (s.router as Record<string, unknown>).disaggregation = { remotePrefillMinTokens: 1_000_000 };
    });
    const id = await bench(dep);
    const run = RunWaterfall.parse(await call('runs.waterfall', { id }));
    expect(run.maxSumErrorMs).toBeLessThan(1);
    expect(run.disaggregation.status).toBe('bad');
    expect(run.disaggregation.remotePrefilled).toBe(0);
    expect(run.disaggregation.messages[0]).toMatch(/prefill workers handled none of the \d+ requests/);
    expect(run.disaggregation.messages[0]).toMatch(/remotePrefillMinTokens/);
    expect(run.request!.placement).toBe('local');
    expect(run.request!.phases.map((p) => p.id)).toContain('local-prefill');
    // Refuses bad params with a clear error.
    await expect(call('runs.waterfall', { id: 42 })).rejects.toThrow(/parameters of runs.waterfall/);
    await fx.controller.deployments.teardown(dep);
  }, 400_000);
});
