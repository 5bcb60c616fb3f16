import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { freePortRun } from './harness/deploy-specs';
import { cmdlineOf, descendants, isAlive, listProcs } from './harness/procs';
import { screenshotPath, startUiServer, useFakeGpus, type UiServer } from './ui-fixture';
import { fullShot, openApp, watchPage } from './ui-page';

/**
 * The deployment wizard, view and stop, in the browser UI against the real controller and the
 * local agent ("This computer": no SSH needed), with the simulated engine.
 */

test.describe.configure({ mode: 'serial' });

let restoreGpus: (() => Promise<void>) | undefined;

/** Streaming chat requests through the router, a few at a time, so the live charts have something to draw. */
async function sendTraffic(baseUrl: string, model: string, rounds: number): Promise<number> {
  let ok = 0;
  for (let r = 0; r < rounds; r++) {
    const replies = await Promise.all(
      Array.from({ length: 4 }, async (_, i) => {
        const res = await fetch(`${baseUrl}/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: `Tell me about prefill and decode, round ${r} request ${i}. `.repeat(20) }], max_tokens: 24 }),
        });
        const body = await res.text();
        return res.ok && body.includes('[DONE]');
      }),
    );
    ok += replies.filter(Boolean).length;
  }
  return ok;
}

test.describe('deployment wizard on this computer', () => {
  let ui: UiServer;
  test.beforeAll(async () => {
    restoreGpus = await useFakeGpus({ count: 4, busy: 3 });
    ui = await startUiServer();
  });
  test.afterAll(async () => {
    await ui?.close();
    await restoreGpus?.();
  });

  test('walks the wizard to a running simulated P/D deployment, charts its samples, shows its logs and stops it with no process left', async ({ page }) => {
    test.setTimeout(240_000);
    const errors = watchPage(page);
    const base = await freePortRun(6);
    await openApp(page, ui);

    // The Deployments page, empty.
    await page.getByTestId('nav-deployments').click();
    await expect(page.getByTestId('deployments-empty')).toBeVisible();
    await page.getByTestId('deployments-new-empty').click();

    // 1. Model and engine.
    const wizard = page.getByTestId('wizard');
    await expect(wizard).toHaveAttribute('data-step', 'model');
    await page.getByTestId('wizard-engine-mocker').click();
    await expect(page.getByTestId('wizard-engine-mocker')).toHaveAttribute('data-checked', 'true');
    await expect(page.getByTestId('banner-simulated')).toContainText('SIMULATED');
    await expect(page.getByTestId('wizard-simulated-badge')).toBeVisible();
    await page.getByTestId('wizard-name').fill('ui-pd');
    await page.getByTestId('wizard-served-name').fill('r1-8b-sim');
    await fullShot(page, 'deploy-wizard-1-model');
    await page.getByTestId('wizard-next').click();

    // 2. Topology: disaggregated, prefill GPU 0, decode TP 2 on GPUs 1 and 2, picked on the NVLink matrix.
    await expect(wizard).toHaveAttribute('data-step', 'topology');
    await page.getByTestId('wizard-mode-disaggregated').click();
    await page.getByTestId('wizard-host-this-computer-check').click();
    await expect(page.getByTestId('wizard-host-this-computer-gpus').locator('tbody tr')).toHaveCount(4, { timeout: 90_000 });
    await expect(page.getByTestId('wizard-host-this-computer-gpu-3')).toContainText('another program');
    await expect(page.getByTestId('wizard-host-this-computer-topology').getByTestId('topology-matrix')).toBeVisible();
    const prefill = page.locator('[data-testid="wizard-group-0"]');
    const decode = page.locator('[data-testid="wizard-group-1"]');
    await expect(prefill).toHaveAttribute('data-role', 'prefill');
    await expect(decode).toHaveAttribute('data-role', 'decode');
    await expect(page.getByTestId('wizard-group-0-gpu-0')).toHaveAttribute('data-selected', 'true');
    // GPU 0 is prefill's: the decode group cannot take it too.
    await expect(page.getByTestId('wizard-group-1-gpu-0')).toBeDisabled();
    await page.getByTestId('wizard-group-1-tp').fill('2');
    await page.getByTestId('wizard-group-1-gpu-2').click();
    await expect(page.getByTestId('wizard-group-1-gpu-hint')).toContainText('1 instance × TP 2');
    await expect(page.getByTestId('wizard-group-1-links')).toContainText('GPU1 ↔ GPU2');
    await expect(page.getByTestId('wizard-host-this-computer-kv-path')).toContainText('GPU0 → GPU1');
    // Ports of their own, so tests running beside this one never collide.
    await page.getByTestId('wizard-group-0-port').fill(String(base));
    await page.getByTestId('wizard-group-1-port').fill(String(base + 1));
    await fullShot(page, 'deploy-wizard-2-topology');
    await page.getByTestId('wizard-next').click();

    // 3. Options.
    await expect(wizard).toHaveAttribute('data-step', 'options');
    await page.getByTestId('wizard-router-port').fill('99999');
    await expect(page.getByTestId('wizard-router-port-error')).toContainText('from 1 to 65535');
    await page.getByTestId('wizard-router-port').fill(String(base + 2));
    await expect(page.getByTestId('wizard-router-port-error')).toHaveCount(0);
    await page.getByTestId('wizard-side-channel-port').fill(String(base + 3));
    await page.getByTestId('wizard-remote-prefill-min-tokens').fill('0');
    await page.getByTestId('wizard-env').fill('HANDOFF_UI_TEST=1');
    await page.getByTestId('wizard-router-cpus').fill('1-0');
    await expect(page.getByTestId('wizard-router-cpus-error')).toContainText('the range 1-0 runs backwards');
    await page.getByTestId('wizard-router-cpus').fill('0');
    await expect(page.getByTestId('wizard-router-cpus-error')).toHaveCount(0);
    await fullShot(page, 'deploy-wizard-3-options');
    await page.getByTestId('wizard-next').click();

    // 4. Review: the exact commands and env per process, no problem.
    await expect(wizard).toHaveAttribute('data-step', 'review');
    await expect(page.getByTestId('review-verdict')).toHaveAttribute('data-verdict', 'ok', { timeout: 90_000 });
    const planText = page.getByTestId('review-plan-text');
    await expect(planText).toContainText('Deployment "ui-pd": engine mocker (simulated), disaggregated, 3 processes on this-computer');
    await expect(planText).toContainText(`VLLM_NIXL_SIDE_CHANNEL_PORT=${base + 3}`);
    await expect(planText).toContainText('CUDA_VISIBLE_DEVICES=1,2');
    await expect(planText).toContainText('--tensor-parallel-size 2');
    await expect(planText).toContainText('HANDOFF_UI_TEST=1');
    // The router pinned to CPU 0: the plan shows it and the command it runs under.
    await expect(page.getByTestId('review-process-router').locator('td').nth(4)).toHaveText('0');
    await expect(page.getByTestId('review-process-decode-0').locator('td').nth(4)).toHaveText('any');
    await expect(planText).toContainText('taskset -c 0');
    await expect(page.getByTestId('review-process-decode-0')).toContainText(`127.0.0.1:${base + 1}`);
    await expect(page.getByTestId('review-spec')).toContainText('engine: mocker');
    await expect(page.getByTestId('wizard-deploy')).toBeEnabled();
    await fullShot(page, 'deploy-wizard-4-review');

    // 5. Deploy: one task step per process, from starting to ready, and their logs.
    await page.getByTestId('wizard-deploy').click();
    await expect(wizard).toHaveAttribute('data-step', 'deploy');
    const progress = page.getByTestId('task-progress');
    await expect(progress).toBeVisible();
    await expect(progress).toHaveAttribute('data-state', 'succeeded', { timeout: 90_000 });
    for (const step of ['prefill-0', 'decode-0', 'router']) await expect(page.getByTestId(`task-step-${step}`)).toHaveAttribute('data-state', 'done');
    await expect(page.getByTestId('wizard-ready')).toContainText('ui-pd is ready');
    await expect(page.getByTestId('log-lines')).not.toHaveAttribute('data-count', '0');
    await fullShot(page, 'deploy-wizard-5-deploy');
    const endpoint = (await page.getByTestId('wizard-endpoint').textContent()) ?? '';
    expect(endpoint).toBe(`http://127.0.0.1:${base + 2}/v1`);

    // The deployment view: processes ready, endpoint, live charts fed by samples.
    await page.getByTestId('wizard-open-deployment').click();
    const view = page.getByTestId('deployment-view');
    await expect(view).toHaveAttribute('data-state', 'ready');
    await expect(page.getByTestId('simulated-badge')).toBeVisible();
    await expect(page.getByTestId('banner-simulated')).toBeVisible();
    await expect(page.getByTestId('deployment-simulated-note')).toBeVisible();
    for (const p of ['prefill-0', 'decode-0', 'router']) await expect(page.getByTestId(`process-state-${p}`)).toHaveAttribute('data-state', 'ready');
    await expect(page.getByTestId('endpoint-url')).toContainText(endpoint);
    await expect(page.getByTestId('endpoint-curl')).toContainText('r1-8b-sim');
    const pids = await Promise.all(['prefill-0', 'decode-0', 'router'].map(async (p) => Number(await page.getByTestId(`process-pid-${p}`).textContent())));
    for (const pid of pids) expect(pid).toBeGreaterThan(0);

    expect(await sendTraffic(endpoint, 'r1-8b-sim', 6)).toBe(24);
    await expect.poll(async () => Number(await page.getByTestId('charts-samples').getAttribute('data-samples')), { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
    const traffic = sendTraffic(endpoint, 'r1-8b-sim', 8);
    for (const chart of ['requests', 'ttft', 'itl', 'kv-cache', 'queue', 'remote-prefill', 'kv-bytes']) {
      await expect.poll(async () => Number(await page.getByTestId(`chart-${chart}`).getAttribute('data-points')), { timeout: 30_000, message: `chart ${chart} gets points` }).toBeGreaterThan(0);
    }
    expect(await traffic).toBe(32);
    await expect(page.getByTestId('chart-ttft-latest-p50')).not.toHaveText('—');
    await expect(page.getByTestId('chart-remote-prefill-latest-remote')).toHaveText('100 %');
    // Charts draw lines without animation or dots: paths only, no circles.
    await expect(page.getByTestId('chart-requests').locator('path.recharts-curve')).toHaveCount(1);
    await expect(page.getByTestId('chart-requests').locator('circle')).toHaveCount(0);

    // Logs of one process.
    await page.getByTestId('log-process').selectOption('decode-0');
    await expect(page.getByTestId('log-lines')).not.toHaveAttribute('data-count', '0');
    await expect(page.getByTestId('log-lines').locator('.log-line[data-process="router"]')).toHaveCount(0);
    await fullShot(page, 'deploy-view-live');

    // The list shows it, simulated.
    await page.getByTestId('crumb-deployments').click();
    await expect(page.getByTestId('deployment-row-ui-pd')).toBeVisible();
    await expect(page.getByTestId('deployment-simulated-ui-pd')).toBeVisible();
    await expect(page.getByTestId('deployment-state-ui-pd')).toHaveAttribute('data-state', 'ready');
    await page.screenshot({ path: screenshotPath('deploy-list') });
    await page.getByTestId('deployment-open-ui-pd').click();

    // Stop, with a confirmation and progress; afterwards nothing it started runs.
    await page.getByTestId('deployment-stop').click();
    await expect(page.getByTestId('stop-dialog')).toBeVisible();
    await page.getByTestId('stop-confirm').click();
    await expect(view).toHaveAttribute('data-state', 'stopped', { timeout: 60_000 });
    await expect(page.getByTestId('task-progress')).toHaveAttribute('data-state', 'succeeded');
    for (const p of ['prefill-0', 'decode-0', 'router']) await expect(page.getByTestId(`process-state-${p}`)).toHaveAttribute('data-state', 'stopped');
    await expect(page.getByTestId('deployment-stop')).toBeDisabled();
    await fullShot(page, 'deploy-view-stopped');
    for (const pid of pids) expect(isAlive(pid), `process ${pid} survived the teardown`).toBe(false);
    const agentPid = Number(await fs.readFile(path.join(ui.home, 'local-agent', 'agent.pid'), 'utf8'));
    expect(descendants(agentPid).filter((p) => isAlive(p.pid))).toEqual([]);

    // Gone from the running list; the simulated banner goes with it.
    await page.getByTestId('crumb-deployments').click();
    await expect(page.getByTestId('deployments-empty')).toBeVisible();
    await expect(page.getByTestId('banner-simulated')).toHaveCount(0);
    expect(errors).toEqual([]);
  });
});

test.describe('deployment wizard review', () => {
  let ui: UiServer;
  test.beforeAll(async () => {
    ui = await startUiServer();
  });
  test.afterAll(async () => {
    await ui?.close();
  });

  test('preselects the simulator without GPUs, and a pasted invalid spec shows each specific problem with Deploy disabled', async ({ page }) => {
    test.setTimeout(120_000);
    await openApp(page, ui);
    await page.getByTestId('nav-deployments').click();
    await page.getByTestId('deployments-new').click();
    await expect(page.getByTestId('wizard-engine-mocker')).toHaveAttribute('data-checked', 'true');
    await expect(page.getByTestId('wizard-engine-note')).toContainText('simulator is preselected');

    await page.getByTestId('wizard-paste-spec').click();
    await expect(page.getByTestId('wizard')).toHaveAttribute('data-step', 'review');
    const yaml = page.getByTestId('review-yaml');
    const verdict = page.getByTestId('review-verdict');

    // A misspelt key: a spec error with its line, before any planning.
    await yaml.fill(['apiVersion: handoff/v1', 'name: broken', 'model: m', 'engine: mocker', 'workers:', '  - role: both', '    gpu: [0]', ''].join('\n'));
    await expect(verdict).toHaveAttribute('data-verdict', 'errors', { timeout: 60_000 });
    const invalid = page.locator('[data-testid="review-problem"][data-code="spec-invalid"]');
    await expect(invalid).toContainText('wizard.yaml:7');
    await expect(invalid).toContainText('gpu');
    await expect(page.getByTestId('wizard-deploy')).toBeDisabled();

    // A well-formed spec the planner rejects, one message per problem.
    await yaml.fill(
      [
        'apiVersion: handoff/v1',
        'name: broken-spec',
        'model: deepseek-ai/DeepSeek-R1-Distill-Llama-8B',
        'engine: mocker',
        'mode: disaggregated',
        'workers:',
        '  - role: prefill',
        '    tp: 2',
        '    gpus: [0, 1]',
        '  - role: decode',
        '    tp: 1',
        '    gpus: [0, 3]',
        '  - role: decode',
        '    host: gpu-nowhere',
        'vllm:',
        '  extraArgs: ["--port", "9000"]',
        'env:',
        '  CUDA_VISIBLE_DEVICES: "0"',
        '',
      ].join('\n'),
    );
    await expect(page.locator('[data-testid="review-problem"][data-code="unknown-host"]')).toContainText('gpu-nowhere', { timeout: 60_000 });
    await expect(verdict).toHaveAttribute('data-verdict', 'errors');
    const expected: Record<string, RegExp> = {
      'unknown-host': /Host "gpu-nowhere" is not one of your hosts/,
      'tp-gpu-mismatch': /has tp: 1 but 2 GPUs \(0, 3\)/,
      'gpu-duplicate': /GPU 0 on "this-computer" is given to both "prefill" and "decode"/,
      'prefill-tp-exceeds-decode': /Prefill group "prefill" has tp: 2, more than decode group "decode"/,
      'env-reserved': /CUDA_VISIBLE_DEVICES is set by the planner/,
      'extra-arg-reserved': /extraArgs contains --port/,
    };
    for (const [code, message] of Object.entries(expected)) {
      await expect(page.locator(`[data-testid="review-problem"][data-code="${code}"]`).first()).toContainText(message);
    }
    await expect(page.locator('[data-testid="review-problem"][data-code="unknown-host"]')).toContainText('wizard.yaml:14');
    await expect(page.getByTestId('review-plan-text')).toHaveCount(0);
    await expect(page.getByTestId('wizard-deploy')).toBeDisabled();
    await fullShot(page, 'deploy-wizard-review-invalid');

    // Back to the form: a valid plan again, and Deploy becomes possible.
    await page.getByTestId('review-back-to-form').click();
    await expect(verdict).toHaveAttribute('data-verdict', 'ok', { timeout: 60_000 });
    await expect(page.getByTestId('wizard-deploy')).toBeEnabled();
  });

  test('cancelling a deploy whose worker never gets ready stops what it started and lets the spec be changed', async ({ page }) => {
    test.setTimeout(120_000);
    // A "vLLM" that starts and never answers /health: the deploy waits until cancelled.
    const venv = await fs.mkdtemp(path.join(os.tmpdir(), 'handoff-fake-vllm-'));
    try {
      await fs.mkdir(path.join(venv, 'bin'));
      await fs.writeFile(path.join(venv, 'bin', 'vllm'), '#!/bin/sh\necho "fake vllm $*"\nsleep 600\n', { mode: 0o755 });
      const port = await freePortRun(2);
      await openApp(page, ui);
      await page.getByTestId('nav-deployments').click();
      await page.getByTestId('deployments-new').click();
      await page.getByTestId('wizard-paste-spec').click();
      await page.getByTestId('review-yaml').fill(
        [
          'apiVersion: handoff/v1',
          'name: never-ready',
          'model: deepseek-ai/DeepSeek-R1-Distill-Llama-8B',
          'engine: vllm',
          'workers:',
          `  - python: ${venv}`,
          `    port: ${port}`,
          'router:',
          `  port: ${port + 1}`,
          'vllm:',
          '  startupTimeoutS: 600',
          '',
        ].join('\n'),
      );
      // Real vLLM on a host without a GPU: its CPU build, the unknown environment only a warning.
      await expect(page.getByTestId('review-verdict')).toHaveAttribute('data-verdict', 'ok', { timeout: 60_000 });
      await expect(page.locator('[data-testid="review-problem"][data-code="python-env-unknown"]')).toHaveAttribute('data-severity', 'warning');
      await expect(page.getByTestId('review-plan-text')).toContainText(`${venv}/bin/vllm serve deepseek-ai/DeepSeek-R1-Distill-Llama-8B`);
      await expect(page.getByTestId('review-plan-text')).toContainText('VLLM_CPU_KVCACHE_SPACE=4');
      await expect(page.getByTestId('banner-simulated')).toHaveCount(0);
      await page.getByTestId('wizard-deploy').click();

      const progress = page.getByTestId('task-progress');
      await expect(page.getByTestId('task-step-both-0')).toHaveAttribute('data-state', 'running', { timeout: 30_000 });
      await expect(page.getByTestId('task-step-router')).toHaveAttribute('data-state', 'pending');
      await expect(page.getByTestId('log-lines')).toContainText('fake vllm serve', { timeout: 30_000 });
      // The worker found by its unique interpreter path (observed only; the teardown is what stops it).
      const worker = listProcs().filter((p) => isAlive(p.pid) && (cmdlineOf(p.pid) ?? '').includes(venv));
      expect(worker).toHaveLength(1);
      const pids = [worker[0]!.pid, ...descendants(worker[0]!.pid).map((p) => p.pid)];
      expect(pids.length).toBeGreaterThan(1);
      await page.screenshot({ path: screenshotPath('deploy-wizard-waiting') });
      await page.getByTestId('task-cancel').click();
      await expect(progress).toHaveAttribute('data-state', 'cancelled', { timeout: 60_000 });
      await expect(page.getByTestId('task-cancelled')).toBeVisible();
      await page.screenshot({ path: screenshotPath('deploy-wizard-cancelled') });
      expect(pids.filter(isAlive)).toEqual([]);
      await page.getByTestId('wizard-back-to-review').click();
      await expect(page.getByTestId('review-yaml')).toHaveValue(/name: never-ready/);
      await page.getByTestId('crumb-deployments').click();
      await expect(page.getByTestId('deployments-empty')).toBeVisible();
    } finally {
      await fs.rm(venv, { recursive: true, force: true });
    }
  });
});
