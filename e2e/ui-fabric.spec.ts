import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { fabricVerdict, linkFromCell } from '../common/kv/fabric-link';
import { fabricKey, type FabricFile, type FabricProbeRecord } from '../common/kv/fabric-probe';
import { KvprobeResult } from '../common/kv/kvprobe-result';
import { writeFixtureRun } from './report-fixture';
import { screenshotPath, startUiServer, type UiServer } from './ui-fixture';

/**
 * The fabric check in the browser UI against the real controller and the local agent ("This
 * computer" with a fake nvidia-smi: 4 H100s joined by NV18). Results recorded by native/kvprobe on
 * two real H100s (common/kv/fixtures/kvprobe/) are stored with the host the way the controller
 * stores them ($HANDOFF_HOME/hosts/<host>/fabric.json); a real disaggregated run of the seed layout
 * (prefill GPU 0, decode TP 2 on GPUs 1–2, 1 MiB blocks) sits in the run store. Screenshots go to
 * docs/screenshots/ and test-results/screenshots/.
 */

test.describe.configure({ mode: 'serial' });

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.join(HERE, '..', 'common', 'kv', 'fixtures', 'kvprobe');
const SHOTS = path.resolve('docs', 'screenshots');
const HOST = 'this-computer';
const RUN_ID = 'run-fabric-pd';
const SEED_MODEL = 'deepseek-ai/DeepSeek-R1-Distill-Llama-8B';

let ui: UiServer;
const savedEnv = { PATH: process.env.PATH, FAKE_GPU_COUNT: process.env.FAKE_GPU_COUNT, FAKE_GPU_BUSY: process.env.FAKE_GPU_BUSY };
let fakeBin: string | null = null;

/**
 * A stand-in nvcc, so the agent tries to build kvprobe: it answers the build script's questions;
 * a compile fails at once, or, while `hang` exists in its folder, writes its pid to `started` and
 * waits until `release` appears (the test knows the build is under way; Cancel must kill it).
 */
const FAKE_NVCC = `#!/bin/sh
case "$1" in
  --list-gpu-arch) printf 'compute_80\\ncompute_90\\ncompute_100\\n'; exit 0 ;;
  --version) echo 'Cuda compilation tools, release 13.0, V13.0.48'; exit 0 ;;
esac
d="$(dirname "$0")"
if [ -e "$d/hang" ]; then
  echo $$ > "$d/started"
  while [ ! -e "$d/release" ]; do sleep 0.2; done
  touch "$d/exited"
fi
echo 'fake nvcc: this machine has no CUDA toolkit' >&2
exit 1
`;

async function useFakeGpus(count: number): Promise<string> {
  const bin = await fs.mkdtemp(path.join(os.tmpdir(), 'handoff-fakebin-'));
  fakeBin = bin;
  await fs.copyFile(path.join(HERE, 'harness', 'fake-nvidia-smi.sh'), path.join(bin, 'nvidia-smi'));
  await fs.chmod(path.join(bin, 'nvidia-smi'), 0o755);
  await fs.writeFile(path.join(bin, 'nvcc'), FAKE_NVCC, { mode: 0o755 });
  process.env.PATH = `${bin}:${savedEnv.PATH ?? ''}`;
  process.env.FAKE_GPU_COUNT = String(count);
  delete process.env.FAKE_GPU_BUSY;
  return bin;
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function startedPid(bin: string): Promise<number | null> {
  const pid = Number((await fs.readFile(path.join(bin, 'started'), 'utf8').catch(() => '')).trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

async function restoreEnv(): Promise<void> {
  // A build left waiting by a failed test ends here, before its folder goes.
  const pid = fakeBin ? await startedPid(fakeBin) : null;
  if (fakeBin && pid !== null && isAlive(pid)) {
    await fs.writeFile(path.join(fakeBin, 'release'), '');
    await expect.poll(() => exists(path.join(fakeBin!, 'exited')), { timeout: 10_000 }).toBe(true);
  }
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  if (fakeBin) await fs.rm(fakeBin, { recursive: true, force: true });
  fakeBin = null;
}

async function recorded(name: string, tp: number, measuredAt: string): Promise<FabricProbeRecord> {
  const result = KvprobeResult.parse(JSON.parse(await fs.readFile(path.join(FIXTURES, name), 'utf8')));
  const link = linkFromCell('NV18');
  const { bytesPerBlock: _b, piecesPerBlock: _p, ...shape } = result.shape;
  return {
    key: fabricKey(result.src.index, result.dst.index, shape),
    host: HOST,
    srcGpu: result.src.index,
    dstGpu: result.dst.index,
    model: SEED_MODEL,
    tp,
    link,
    verdict: fabricVerdict(link, result),
    provenance: { via: 'built', path: '~/.handoff/kvprobe/81bfce111b0173d9/kvprobe', notes: ['recorded on 2 × H100 NV18 (common/kv/fixtures/kvprobe/README.txt)'] },
    result,
    measuredAt,
  };
}

async function shot(page: Page, target: Locator, name: string): Promise<void> {
  await fs.mkdir(SHOTS, { recursive: true });
  // The content pane scrolls inside the window: a window taller than the element shows all of it.
  const box = await target.boundingBox();
  const vp = page.viewportSize() ?? { width: 1400, height: 1000 };
  if (box && box.height + 200 > vp.height) await page.setViewportSize({ width: vp.width, height: Math.ceil(box.height) + 200 });
  await target.scrollIntoViewIfNeeded();
  await target.screenshot({ path: path.join(SHOTS, `${name}.png`) });
  await page.setViewportSize(vp);
  await fs.mkdir(path.dirname(screenshotPath(name)), { recursive: true });
  await fs.copyFile(path.join(SHOTS, `${name}.png`), screenshotPath(name));
}

async function open(page: Page, hash: string): Promise<void> {
  await page.setViewportSize({ width: 1400, height: 1000 });
  await page.goto(`${ui.serve.url.replace(/#.*$/, '')}${hash}`);
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
}

let bin = '';

test.beforeAll(async () => {
  bin = await useFakeGpus(4);
  const staticDir = process.env.HANDOFF_E2E_RENDERER_DIR;
  ui = await startUiServer(staticDir ? { staticDir } : {});
  const file: FabricFile = {
    version: 1,
    records: [await recorded('h100-nvlink-llama8b-tp1.json', 1, '2026-11-26T15:43:57.000Z'), await recorded('h100-nvlink-llama8b-tp2.json', 2, '2026-11-26T15:43:53.000Z')],
  };
  await fs.mkdir(path.join(ui.home, 'hosts', HOST), { recursive: true });
  await fs.writeFile(path.join(ui.home, 'hosts', HOST, 'fabric.json'), JSON.stringify(file, null, 2));
  // The report fixture's run, made a real vLLM one: a simulated run keeps the mocker's modelled figure instead.
  const { dir, run } = await writeFixtureRun(ui.home, { id: RUN_ID, name: 'vllm-disaggregated · concurrency 4', requests: 60, simulated: false, mode: 'disaggregated' });
  const spec = { ...(run.spec as Record<string, unknown>), name: 'vllm-disaggregated', engine: 'vllm' };
  const real = { ...run, spec, deployment: run.deployment && { ...run.deployment, name: 'vllm-disaggregated', engine: 'vllm' as const }, versions: { handoff: '0.1.0', vllm: '0.32.0', nixl: '1.2.0' } };
  await fs.writeFile(path.join(dir, 'run.json'), JSON.stringify(real, null, 2) + '\n');
});

test.afterAll(async () => {
  await ui?.close();
  await restoreEnv();
});

test('the host view lists the stored fabric results with link, expected figure and per-mode figures, and a check that cannot run here says what to do', async ({ page }) => {
  test.setTimeout(180_000);
  await open(page, `#/hosts/host/${HOST}`);
  await expect(page.getByTestId('host-view')).toBeVisible();
  if ((await page.getByTestId('gpu-count').count()) === 0 || (await page.getByTestId('gpu-count').textContent()) !== '4') {
    await page.getByTestId('host-recheck').click();
    await expect(page.getByTestId('gpu-count')).toHaveText('4', { timeout: 120_000 });
  }
  const section = page.getByTestId('fabric-section');
  await expect(section).toBeVisible();
  await expect(page.getByTestId('fabric-record-count')).toHaveText('2');
  await expect(page.getByTestId('fabric-pair-link-line')).toHaveAttribute('data-topo', 'NV18');
  await expect(page.getByTestId('fabric-pair-link-line-expected')).toHaveText('360');

  const tp1 = page.getByTestId('fabric-stored-0-1-2097152');
  await expect(tp1).toHaveAttribute('data-verdict', 'ok');
  await expect(page.getByTestId('fabric-stored-0-1-2097152-gather-188-us')).toHaveText('5.66 µs');
  await expect(page.getByTestId('fabric-stored-0-1-2097152-gather-188-gbps')).toHaveText('370');
  await expect(page.getByTestId('fabric-stored-0-1-2097152-contiguous-188-gbps')).toHaveText('395');
  await expect(page.getByTestId('fabric-stored-0-1-2097152-per-piece-188-us')).toHaveText('176 µs');
  await expect(page.getByTestId('fabric-stored-0-1-2097152-host-staged-188-gbps')).toHaveText('23.7');
  await expect(page.getByTestId('fabric-stored-0-1-1048576-gather-188-us')).toHaveText('2.86 µs');
  // The form's default pair and model (TP 1, block 16 = 2 MiB) already has a stored result.
  await expect(page.getByTestId('fabric-check')).toHaveAttribute('data-state', 'stored');
  await expect(page.getByTestId('fabric-check-result')).toHaveCount(0);
  await page.getByTestId('fabric-expectations').locator('summary').click();
  await expect(page.getByTestId('fabric-expectations-source')).toContainText('reference/build-machine.md');
  await shot(page, section, 'fabric-host-view');

  // This machine has no real GPU behind the fake nvidia-smi: the agent cannot run kvprobe, and the
  // check fails with the agent's reason and the next step.
  await page.getByTestId('fabric-tp').fill('2');
  await page.getByTestId('fabric-dst').selectOption('2');
  await expect(page.getByTestId('fabric-check')).toHaveAttribute('data-state', 'idle');
  await page.getByTestId('fabric-check-run').click();
  const progress = section.getByTestId('task-progress');
  await expect(progress).toBeVisible();
  await expect(progress).toHaveAttribute('data-state', /failed|succeeded/, { timeout: 150_000 });
  if ((await progress.getAttribute('data-state')) === 'failed') {
    const error = section.getByTestId('task-error');
    await expect(error).toHaveAttribute('data-error-code', /.+/);
    await expect(error.locator('.callout-body')).not.toBeEmpty();
    const code = await error.getAttribute('data-error-code');
    if (code === 'kvprobe-unavailable' || code === 'no-gpu' || code === 'kvprobe-failed') await expect(error.locator('.callout-hint')).not.toBeEmpty();
    await shot(page, section.getByTestId('fabric-check'), 'fabric-host-check-failed');
  }
});

test('the wizard offers a fabric check for each prefill → decode GPU pair of a disaggregated plan, with the stored result of the same block shape', async ({ page }) => {
  test.setTimeout(180_000);
  await open(page, '#/deployments');
  await page.getByTestId('nav-deployments').click();
  await page.getByTestId('deployments-new-empty').or(page.getByTestId('deployments-new')).first().click();
  const wizard = page.getByTestId('wizard');
  await expect(wizard).toHaveAttribute('data-step', 'model');
  await page.getByTestId('wizard-engine-mocker').click();
  await page.getByTestId('wizard-name').fill('fabric-pd');
  await page.getByTestId('wizard-next').click();
  await expect(wizard).toHaveAttribute('data-step', 'topology');
  await page.getByTestId('wizard-mode-disaggregated').click();
  await expect(page.getByTestId(`wizard-host-${HOST}-gpus`).locator('tbody tr')).toHaveCount(4, { timeout: 60_000 });
  for (const [group, gpu] of [
    [0, 0],
    [1, 1],
  ] as const) {
    const chip = page.getByTestId(`wizard-group-${group}-gpu-${gpu}`);
    if ((await chip.getAttribute('data-selected')) !== 'true') await chip.click();
    await expect(chip).toHaveAttribute('data-selected', 'true');
  }
  await page.getByTestId('wizard-next').click();
  await page.getByTestId('wizard-next').click();
  await expect(wizard).toHaveAttribute('data-step', 'review');
  await expect(page.getByTestId('review-verdict')).toHaveAttribute('data-verdict', 'ok', { timeout: 90_000 });

  const card = page.getByTestId('wizard-fabric');
  await expect(card).toBeVisible();
  const pair = page.getByTestId('wizard-fabric-pair-0');
  await expect(pair).toHaveAttribute('data-cross-host', 'false');
  await expect(pair).toContainText('GPU 0 → GPU 1 on this-computer');
  await expect(page.getByTestId('wizard-fabric-pair-0-link')).toHaveAttribute('data-topo', 'NV18');
  await expect(page.getByTestId('wizard-fabric-pair-0-link-expected')).toHaveText('360');
  await expect(page.getByTestId('wizard-fabric-pair-0-check')).toHaveAttribute('data-state', 'stored');
  await expect(page.getByTestId('wizard-fabric-pair-0-check-run')).toHaveText('Check again');
  await expect(page.getByTestId('wizard-fabric-pair-0-check-result')).toHaveAttribute('data-verdict', 'ok');
  await expect(page.getByTestId('wizard-fabric-pair-0-check-result-gather-188-us')).toHaveText('5.66 µs');
  await expect(page.getByTestId('wizard-fabric-pair-1')).toHaveCount(0);
  await shot(page, card, 'fabric-wizard');
});

test('the run view draws the stored kvprobe gather figure of the run’s GPU pair and block size as the fabric ceiling', async ({ page }) => {
  test.setTimeout(120_000);
  await open(page, `#/benchmarks/run/${RUN_ID}`);
  const kv = page.getByTestId('run-charts-kv');
  await expect(kv).toBeVisible({ timeout: 60_000 });
  const figure = page.getByTestId('kv-transfer-fabric');
  await expect(figure).toHaveAttribute('data-label', 'fabric ceiling (kvprobe, GPU0→1)');
  await expect(figure).toContainText('2.86 µs');
  await expect(figure).toHaveAttribute('title', /kvprobe native on this-computer, GPU0→1 NV18, gather p50 of 188-block transfers/);
  const chart = page.getByTestId('bench-chart-kv-transfer');
  await expect(chart.locator('.recharts-reference-line')).toHaveCount(1);
  // recharts draws reference-line labels in a layer of their own, above the lines.
  await expect(chart.locator('svg text', { hasText: 'fabric ceiling (kvprobe, GPU0→1) 2.86 µs' })).toHaveCount(1);
  await shot(page, kv, 'fabric-run-reference');
});

test('a fabric check shows its progress while kvprobe builds, and Cancel stops it', async ({ page }) => {
  test.setTimeout(180_000);
  await fs.writeFile(path.join(bin, 'hang'), '');
  await open(page, `#/hosts/host/${HOST}`);
  const section = page.getByTestId('fabric-section');
  await expect(section).toBeVisible();
  await page.getByTestId('fabric-dst').selectOption('3');
  await page.getByTestId('fabric-check-run').click();
  const progress = section.getByTestId('task-progress');
  await expect(progress).toHaveAttribute('data-state', 'running');
  await expect(page.getByTestId('fabric-check-run')).toHaveText('Checking…');
  await expect(page.getByTestId('fabric-check-run')).toBeDisabled();
  await expect(section.getByTestId('task-step-connect')).toHaveAttribute('data-state', 'done');
  await expect(section.getByTestId('task-step-locate')).toHaveAttribute('data-state', 'running');
  await expect(section.getByTestId('task-step-locate-detail')).toContainText('building kvprobe with', { timeout: 60_000 });
  await expect.poll(() => exists(path.join(bin, 'started')), { timeout: 30_000 }).toBe(true);
  await shot(page, section.getByTestId('fabric-check'), 'fabric-host-check-running');

  await section.getByTestId('task-cancel').click();
  await expect(progress).toHaveAttribute('data-state', 'cancelled', { timeout: 30_000 });
  await expect(section.getByTestId('task-cancelled')).toBeVisible();
  await expect(page.getByTestId('fabric-check-run')).toBeEnabled();
  await expect(page.getByTestId('fabric-check-run')).toHaveText('Check again');
  // Cancel kills the build's process group: the stand-in nvcc is gone without being released.
  const pid = await startedPid(bin);
  expect(pid).not.toBeNull();
  await expect.poll(() => isAlive(pid!), { timeout: 10_000 }).toBe(false);
  expect(await exists(path.join(bin, 'exited'))).toBe(false);
  await fs.rm(path.join(bin, 'hang'));
  await fs.rm(path.join(bin, 'started'));
});
