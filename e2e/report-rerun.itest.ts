/**
 * A report bundle of a real benchmark sweep on a mocker deployment on this computer, run again
 * with `handoff rerun BUNDLE DEPLOYMENT`: the new runs have the same workload, tool and load
 * points. The HTML report of the real run shows the plan's commands and the host's facts.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_HOST_NAME } from '../common/host';
import { ReportExportResult } from '../common/report-model';
import { BenchTaskResult, RunDetail, StartRunResult } from '../common/run-view';
import { readBundleManifest } from '../electron/control/reports/report-bundle';
import { runCli } from './harness/cli';
import { agentArtifactsForTests, startControllerFixture, type ControllerFixture } from './harness/controller-fixture';
import { exampleSpec } from './harness/deploy-specs';

const WORKLOAD = { preset: 'seed' as const, islMean: 128, oslMean: 8, minTokens: 8, maxTokens: 8, requestCount: 6, warmupRequestCount: 1 };

describe('re-running an exported bundle', () => {
  let fx: ControllerFixture;
  let deploymentId: string;
  let sweep: BenchTaskResult;

  beforeAll(async () => {
    fx = await startControllerFixture();
    const spec = await exampleSpec({ prefill: LOCAL_HOST_NAME, decode: LOCAL_HOST_NAME });
    const { deployment, task } = await fx.controller.deployments.apply({ specText: spec.text });
    deploymentId = deployment.id;
    const t = await fx.finish(task);
    expect(t.state, JSON.stringify(t.error)).toBe('succeeded');
    const started = StartRunResult.parse(await fx.controller.handle('runs.sweep', { deployment: deploymentId, workload: WORKLOAD, concurrencies: [1, 2], name: 'rerun-source' }));
    const done = await fx.finish(started.task);
    expect(done.state, JSON.stringify(done.error)).toBe('succeeded');
    sweep = BenchTaskResult.parse(done.result);
  }, 300_000);

  afterAll(async () => {
    if (deploymentId) await fx?.controller.deployments.teardown(deploymentId).catch(() => undefined);
    await fx?.close();
  }, 120_000);

  async function exportReport(params: Record<string, unknown>): Promise<ReportExportResult> {
    const t = await fx.finish(fx.controller.reports.export(params));
    expect(t.state, JSON.stringify(t.error)).toBe('succeeded');
    return ReportExportResult.parse(t.result);
  }

  it('shows the exact commands of the plan and the host facts in the HTML of a real run', async () => {
    const r = await exportReport({ runIds: [sweep.runIds[0]!], format: 'html', outPath: path.join(fx.home, 'real.html') });
    const html = await fs.readFile(r.files[0]!.path, 'utf8');
    expect(html).toContain('Simulated engine');
    expect(html).toContain('<h4>Commands</h4>');
    // The router's and the workers' argv, as the planner made them.
    expect(html).toMatch(/handoff-agent router/);
    expect(html).toMatch(/--kv-transfer-config/);
    expect(html).toContain(`${LOCAL_HOST_NAME} as of its last check`);
    expect(html).toContain('data-testid="chart-kv-per-block"');
  }, 120_000);

  it('starts the same sweep again from the bundle with handoff rerun', async () => {
    const bundle = path.join(fx.home, 'sweep.tar.gz');
    const r = await exportReport({ sweepId: sweep.group!, format: 'bundle', outPath: bundle });
    expect(r.files[0]!.path).toBe(bundle);
    const manifest = await readBundleManifest(bundle);
    expect(manifest.rerun).toMatchObject({ tool: 'builtin', concurrencies: [1, 2] });

    const env = { HANDOFF_HOME: fx.home, HOME: fx.userHome, HANDOFF_AGENT_BUNDLE: (await agentArtifactsForTests()).bundlePath };
    const dry = await runCli(['rerun', bundle, deploymentId, '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ method: 'runs.sweep', params: { deployment: deploymentId, concurrencies: [1, 2] } });

    const res = await runCli(['rerun', bundle, deploymentId, '--json'], env, 300_000);
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as { ok: boolean; repeats: string[]; runIds: string[] };
    expect(out.ok).toBe(true);
    expect(out.repeats.sort()).toEqual([...sweep.runIds].sort());
    expect(out.runIds).toHaveLength(2);
    for (const [i, id] of out.runIds.entries()) {
      const again = RunDetail.parse(await fx.controller.handle('runs.get', { id }));
      const orig = RunDetail.parse(await fx.controller.handle('runs.get', { id: sweep.runIds[i]! }));
      expect(again.summary.status).toBe('complete');
      expect(again.run!.tool.name).toBe(orig.run!.tool.name);
      // Everything but the run's own identity is the same workload.
      expect(again.run!.workload).toEqual(orig.run!.workload);
      expect(again.run!.deployment).toEqual(orig.run!.deployment);
    }
  }, 400_000);
});
