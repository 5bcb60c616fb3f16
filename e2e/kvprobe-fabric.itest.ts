/**
 * The fabric check end to end: hosts.fabricProbe through the controller, over a real sshd, to the
 * uploaded agent with a fake nvidia-smi (2 × H100, NV18): no GPU, no way to run kvprobe, the PyTorch
 * fallback (on CPU tensors) stored with the host and listed by hosts.fabric, and cancel. Then the
 * `handoff probe` CLI against this computer with a fake nvcc.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FabricFile, FabricProbeRecord } from '../common/kv/fabric-probe';
import type { Task } from '../common/task';
import { startSshd, sshdUnavailableReason, type SshdInstance } from './harness/sshd';
import { shutdownLocalAgent, startControllerFixture, trustAll, type ControllerFixture } from './harness/controller-fixture';
import { runCli } from './harness/cli';
import { isAlive } from './harness/procs';
import { waitFor } from './harness/ssh-test-env';
import { fakeResult, makeFakeCuda } from './kvprobe-fakes';
import { makeSharedVllmEnv, vllmVenvSkipReason } from './real-vllm/real-vllm-env';

const skip = sshdUnavailableReason();
if (skip) console.warn(`skipping fabric probe SSH tests: ${skip}`);
const torchSkip = vllmVenvSkipReason();
if (torchSkip) console.warn(`skipping the fabric probe's PyTorch fallback step: ${torchSkip}`);
delete process.env.SSH_AUTH_SOCK;

const SHAPE = { layers: 2, kvHeadsPerRank: 1, headDim: 8, dtypeBytes: 2, blockSize: 16 };

describe.skipIf(skip !== null)('fabric probe over SSH', () => {
  let fx: ControllerFixture;
  let s: SshdInstance;

  beforeAll(async () => {
    fx = await startControllerFixture();
    s = await startSshd({ fakeGpus: 2, extraConfig: ['PermitUserEnvironment yes'] });
    // The daemon inherits the session's environment: CPU tensors for the fallback, as CI has no GPU.
    // (~/.ssh/environment: the harness's own SetEnv line comes first and sshd keeps the first.)
    const gid = (await fs.stat(s.home)).gid;
    await fs.mkdir(path.join(s.home, '.ssh'), { recursive: true });
    await fs.writeFile(path.join(s.home, '.ssh', 'environment'), 'HANDOFF_KVPROBE_DEVICE=cpu\n');
    for (const p of ['.ssh', '.ssh/environment']) await fs.chown(path.join(s.home, p), s.uid, gid);
    const { task } = await fx.controller.hosts.add({ kind: 'ssh', name: 'gpu2', target: { user: s.user, host: s.address, port: s.port }, identityFile: s.keys.plain });
    const checked = await fx.finish(task, trustAll);
    expect(checked.error).toBeUndefined();
  }, 240_000);
  afterAll(async () => {
    await fx?.close();
    await s?.stop();
  });

  const probe = async (params: Record<string, unknown> = {}): Promise<Task> =>
    fx.finish((await fx.controller.handle('hosts.fabricProbe', { host: 'gpu2', srcGpu: 0, dstGpu: 1, shape: SHAPE, blockCounts: [1, 2], iterations: 2, ...params })) as Task);

  it('fails with a clear "no GPU" error when the host has no nvidia-smi', async () => {
    const smi = path.join(s.fakebin, 'nvidia-smi');
    await fs.rename(smi, `${smi}.off`);
    try {
      const t = await probe();
      expect(t.state).toBe('failed');
      expect(t.error?.code).toBe('no-gpu');
      expect(t.error?.message).toMatch(/There is no GPU on this host/);
    } finally {
      await fs.rename(`${smi}.off`, smi);
    }
  }, 120_000);

  it('fails saying that neither nvcc nor a Python with torch is on the host', async () => {
    const t = await probe();
    expect(t.state).toBe('failed');
    expect(t.error?.code).toBe('kvprobe-unavailable');
    expect(t.error?.message).toMatch(/no nvcc to build kvprobe.*no Python environment with torch/);
    expect(((await fx.controller.handle('hosts.fabric', { host: 'gpu2' })) as FabricFile).records).toEqual([]);
  }, 120_000);

  it.skipIf(torchSkip !== null)('falls back to the PyTorch probe when torch is there but nvcc is not, and keeps the result with the host', async () => {
    const gid = (await fs.stat(s.home)).gid;
    makeSharedVllmEnv(path.join(s.home, '.venv-vllm'), { uid: s.uid, gid, user: s.user });
    const t = await probe();
    expect(t.error).toBeUndefined();
    expect(t.state).toBe('succeeded');
    const rec = FabricProbeRecord.parse(t.result);
    expect(rec.provenance.via).toBe('torch');
    expect(rec.provenance.notes.join(' ')).toContain('no nvcc');
    expect(rec.result.implementation).toBe('cpu');
    expect(rec.key).toBe('0->1:2x1x8x2b/bs16');
    expect(rec.link).toMatchObject({ topo: 'NV18', kind: 'nvlink', expectedGbPerS: 360 });
    // CPU copies are far below an NVLink's rate: the verdict says so.
    expect(rec.verdict.level).toBe('slow');
    expect(t.steps.map((st) => st.state)).toEqual(['done', 'done', 'done', 'done']);
    const stored = FabricFile.parse(JSON.parse(await fs.readFile(path.join(fx.home, 'hosts', 'gpu2', 'fabric.json'), 'utf8')));
    expect(stored.records.map((r) => r.key)).toEqual([rec.key]);
    const listed = (await fx.controller.handle('hosts.fabric', { host: 'gpu2' })) as FabricFile;
    expect(listed.records[0]?.measuredAt).toBe(rec.measuredAt);
  }, 300_000);

  it('tasks.cancel stops a running probe on the host', async () => {
    const fakeDir = path.join(s.home, 'fakecuda');
    const cuda = await makeFakeCuda(fakeDir, fakeResult());
    await fs.writeFile(cuda.hangFile, '');
    // The host user's fake kvprobe writes its pid file there.
    await fs.chown(fakeDir, s.uid, (await fs.stat(s.home)).gid);
    await fs.copyFile(path.join(cuda.binDir, 'nvcc'), path.join(s.fakebin, 'nvcc'));
    await fs.chmod(path.join(s.fakebin, 'nvcc'), 0o755);
    try {
      const task = (await fx.controller.handle('hosts.fabricProbe', { host: 'gpu2', srcGpu: 1, dstGpu: 0, model: 'meta-llama/Llama-3.1-8B', implementation: 'native' })) as Task;
      await waitFor(() => fx.controller.tasks.get(task.id).steps.find((st) => st.id === 'measure')?.detail === 'gather, 1 block', 'the probe to start measuring', 120_000);
      const pid = Number(await fs.readFile(cuda.pidFile, 'utf8'));
      expect(isAlive(pid)).toBe(true);
      fx.controller.tasks.cancel(task.id);
      const done = await fx.finish(task);
      expect(done.state).toBe('cancelled');
      await waitFor(() => !isAlive(pid), 'the kvprobe process on the host to exit', 15_000);
    } finally {
      await fs.rm(path.join(s.fakebin, 'nvcc'), { force: true });
    }
  }, 180_000);

  it('rejects a probe of an unknown host or model, and params with both a model and a shape', async () => {
    await expect(fx.controller.handle('hosts.fabricProbe', { host: 'nope', srcGpu: 0, dstGpu: 1, shape: SHAPE })).rejects.toMatchObject({ code: 'unknown-host' });
    await expect(fx.controller.handle('hosts.fabricProbe', { host: 'gpu2', srcGpu: 0, dstGpu: 1, model: 'acme/unknown-7b' })).rejects.toMatchObject({ code: 'unknown-model' });
    await expect(fx.controller.handle('hosts.fabricProbe', { host: 'gpu2', srcGpu: 0, dstGpu: 1, model: 'meta-llama/Llama-3.1-8B', shape: SHAPE })).rejects.toMatchObject({ code: 'invalid-params' });
    await expect(fx.controller.handle('hosts.fabric', { host: '../etc' })).rejects.toMatchObject({ code: 'invalid-params' });
  });
});

describe('handoff probe CLI', () => {
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'handoff-probe-cli-'));
    const cuda = await makeFakeCuda(path.join(dir, 'cuda'), fakeResult());
    const smiDir = path.join(dir, 'smi');
    await fs.mkdir(smiDir);
    await fs.copyFile(path.join(import.meta.dirname, 'harness', 'fake-nvidia-smi.sh'), path.join(smiDir, 'nvidia-smi'));
    await fs.chmod(path.join(smiDir, 'nvidia-smi'), 0o755);
    await fs.mkdir(path.join(dir, 'user', '.ssh'), { recursive: true });
    env = {
      HANDOFF_HOME: path.join(dir, 'state'),
      HOME: path.join(dir, 'user'),
      HANDOFF_AGENT_HOME: path.join(dir, 'local-agent'),
      PATH: [cuda.binDir, smiDir, path.dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
      CUDA_HOME: path.join(dir, 'no-cuda'),
      FAKE_GPU_COUNT: '4',
    };
  }, 60_000);
  afterAll(async () => {
    await shutdownLocalAgent(path.join(dir, 'local-agent'));
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('probes a GPU pair of this computer with a model\'s block shape, prints the table, and --json prints the stored record', async () => {
    const check = await runCli(['hosts', 'check', 'this-computer'], env, 180_000);
    expect(check.code).toBe(0);
    const text = await runCli(['probe', 'this-computer', '--src', '0', '--dst', '1', '--model', 'meta-llama/Llama-3.1-8B'], env, 180_000);
    expect(text.stderr).not.toMatch(/unexpected error/);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('this-computer GPU 0 → GPU 1: NV18');
    expect(text.stdout).toMatch(/gather\s+188\s+5\.65\s+5\.75\s+371\.5/);
    expect(text.stdout).toContain('371.5 GB/s, 103% of the ~360 GB/s expected on NV18');
    expect(text.stderr).toMatch(/Measure block copies/);

    const json = await runCli(['probe', 'this-computer', '--src', '0', '--dst', '1', '--model', 'meta-llama/Llama-3.1-8B', '--json'], env, 180_000);
    expect(json.code).toBe(0);
    const rec = FabricProbeRecord.parse(JSON.parse(json.stdout));
    expect(rec).toMatchObject({ host: 'this-computer', model: 'meta-llama/Llama-3.1-8B', tp: 1, verdict: { level: 'ok' } });
    expect(rec.provenance.via).toBe('cached');
    expect(rec.key).toBe('0->1:32x8x128x2b/bs16');
  }, 400_000);

  it('exits 2 with a usage message for a probe without a model or a whole shape, or with an unknown mode', async () => {
    const none = await runCli(['probe', 'this-computer', '--src', '0', '--dst', '1'], env);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Give --model NAME (a built-in model) or the whole shape');
    const mode = await runCli(['probe', 'this-computer', '--src', '0', '--dst', '1', '--layers', '2', '--kv-heads', '1', '--head-dim', '8', '--modes', 'warp'], env);
    expect(mode.code).toBe(2);
    expect(mode.stderr).toContain('Unknown mode "warp"');
  }, 120_000);
});
