/**
 * The prebuilt kvprobe travels with the agent install over a real sshd: installed into the
 * versioned agent dir with the bundle (one lock, temp dir + rename), used by the remote agent's
 * fabric probe without nvcc or torch, and not uploaded again by the next check. Without a prebuilt
 * in the artifacts the install is as before and the probe says the bundle holds none.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostCheckResult } from '../common/host';
import { FabricProbeRecord } from '../common/kv/fabric-probe';
import { HANDOFF_VERSION } from '../common/version';
import type { Task } from '../common/task';
import type { AgentArtifacts } from '../electron/control/agent/agent-install';
import { startSshd, sshdUnavailableReason, type SshdInstance } from './harness/sshd';
import { agentArtifactsForTests, startControllerFixture, trustAll, type ControllerFixture } from './harness/controller-fixture';
import { fakeResult, makeFakeCuda } from './kvprobe-fakes';

const skip = sshdUnavailableReason();
if (skip) console.warn(`skipping remote prebuilt kvprobe tests: ${skip}`);
delete process.env.SSH_AUTH_SOCK;

const SHAPE = { layers: 2, kvHeadsPerRank: 1, headDim: 8, dtypeBytes: 2, blockSize: 16 };

describe.skipIf(skip !== null)('prebuilt kvprobe on a remote host', () => {
  let fx: ControllerFixture;
  let artifacts: AgentArtifacts;
  const sshds: SshdInstance[] = [];

  beforeAll(async () => {
    artifacts = await agentArtifactsForTests();
    fx = await startControllerFixture({ artifacts });
  }, 180_000);
  afterAll(async () => {
    await fx?.close();
    await Promise.all(sshds.map((s) => s.stop()));
  });

  const addHost = async (name: string): Promise<{ s: SshdInstance; check: HostCheckResult }> => {
    const s = await startSshd({ fakeGpus: 2 });
    sshds.push(s);
    const { task } = await fx.controller.hosts.add({ kind: 'ssh', name, target: { user: s.user, host: s.address, port: s.port }, identityFile: s.keys.plain });
    const t = await fx.finish(task, trustAll);
    expect(t.error).toBeUndefined();
    return { s, check: HostCheckResult.parse(t.result) };
  };
  const probe = async (host: string): Promise<Task> =>
    fx.finish((await fx.controller.handle('hosts.fabricProbe', { host, srcGpu: 0, dstGpu: 1, shape: SHAPE, blockCounts: [1, 2], iterations: 2 })) as Task);

  it('uploads the prebuilt into the versioned agent dir, the remote probe runs it, and the next check uploads nothing', async () => {
    // The fake binary (passes --check) reads its result from a dir the host user can reach.
    const fakeDir = path.join(fx.home, 'kvprobe-prebuilt');
    const s0 = await startSshd({ fakeGpus: 2 });
    sshds.push(s0);
    const cudaDir = path.join(s0.home, 'fakecuda');
    await makeFakeCuda(cudaDir, fakeResult({ producerVersion: 'kvprobe-remote-prebuilt' }));
    await fs.chown(cudaDir, s0.uid, (await fs.stat(s0.home)).gid);
    await fs.mkdir(fakeDir, { recursive: true });
    await fs.copyFile(path.join(cudaDir, 'fake-kvprobe.sh'), path.join(fakeDir, 'kvprobe'));
    await fs.writeFile(path.join(fakeDir, 'build.json'), '{"sourceHash":"test","archs":"sm_90"}\n');
    // Left by an interrupted build: never shipped.
    await fs.writeFile(path.join(fakeDir, 'kvprobe.tmp.123'), 'partial');
    artifacts.kvprobePrebuiltDir = fakeDir;

    const { task } = await fx.controller.hosts.add({ kind: 'ssh', name: 'prebuilt', target: { user: s0.user, host: s0.address, port: s0.port }, identityFile: s0.keys.plain });
    const first = await fx.finish(task, trustAll);
    expect(first.error).toBeUndefined();
    expect(HostCheckResult.parse(first.result).agent.uploadedBundle).toBe(true);

    const installDir = path.join(s0.home, '.handoff', 'agent', HANDOFF_VERSION);
    const remoteBin = path.join(installDir, 'kvprobe-prebuilt', 'kvprobe');
    expect((await fs.readdir(path.join(installDir, 'kvprobe-prebuilt'))).sort()).toEqual(['build.json', 'kvprobe']);
    const st = await fs.stat(remoteBin);
    expect(st.mode & 0o111).not.toBe(0);
    expect(st.uid).toBe(s0.uid);
    // Nothing of the temp dir is left beside the published one.
    expect((await fs.readdir(path.dirname(installDir))).filter((n) => n.includes('.tmp-'))).toEqual([]);

    const t = await probe('prebuilt');
    expect(t.error).toBeUndefined();
    const rec = FabricProbeRecord.parse(t.result);
    expect(rec.provenance).toEqual({ via: 'prebuilt', path: remoteBin, notes: [] });
    expect(rec.result.producerVersion).toBe('kvprobe-remote-prebuilt');

    const second = await fx.finish(await fx.controller.hosts.check('prebuilt'));
    expect(second.error).toBeUndefined();
    expect(HostCheckResult.parse(second.result).agent).toMatchObject({ uploadedBundle: false, uploadedRuntime: false });
    const again = await fs.stat(remoteBin);
    expect([again.ino, again.mtimeMs]).toEqual([st.ino, st.mtimeMs]);
    await fx.controller.hosts.remove('prebuilt');
  }, 300_000);

  it('without a prebuilt in the artifacts installs only the bundle, and the probe says the bundle holds none', async () => {
    delete artifacts.kvprobePrebuiltDir;
    const { s, check } = await addHost('plain');
    expect(check.agent.uploadedBundle).toBe(true);
    const installDir = path.join(s.home, '.handoff', 'agent', HANDOFF_VERSION);
    expect(await fs.readdir(installDir)).not.toContain('kvprobe-prebuilt');
    const t = await probe('plain');
    expect(t.state).toBe('failed');
    expect(t.error?.code).toBe('kvprobe-unavailable');
    expect(t.error?.message).toContain('the agent bundle holds no prebuilt kvprobe');
    await fx.controller.hosts.remove('plain');
  }, 240_000);
});
