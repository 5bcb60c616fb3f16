import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HostCheckResult } from '../common/host';
import { startSshd, startSshdPair, sshdUnavailableReason, CLIENT_KEY_PASSPHRASE, type SshdInstance } from './harness/sshd';
import { startControllerFixture, trustAll, type ControllerFixture } from './harness/controller-fixture';

const skip = sshdUnavailableReason();
if (skip) console.warn(`skipping SSH host tests: ${skip}`);
delete process.env.SSH_AUTH_SOCK;

describe.skipIf(skip !== null)('hosts over real SSH', () => {
  let fx: ControllerFixture;
  const sshds: Array<{ stop(): Promise<void> }> = [];
  const sshd = async (opts: Parameters<typeof startSshd>[0] = {}) => {
    const s = await startSshd(opts);
    sshds.push(s);
    return s;
  };
  const addSsh = (s: SshdInstance, name: string, identityFile = s.keys.plain) =>
    fx.controller.hosts.add({ kind: 'ssh', name, target: { user: s.user, host: s.address, port: s.port }, identityFile });

  beforeAll(async () => {
    fx = await startControllerFixture();
  }, 180_000);
  afterEach(async () => {
    await Promise.all(sshds.splice(0).map((s) => s.stop()));
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('installs the agent with a Node runtime, reports 4 GPUs, and a second check uploads nothing', async () => {
    const s = await sshd({ withNode: false, fakeGpus: 4 });
    const { task } = await addSsh(s, 'gpu4');
    const first = await fx.finish(task, trustAll);
    expect(first.error).toBeUndefined();
    const r1 = HostCheckResult.parse(first.result);
    expect(r1.agent).toMatchObject({ uploadedBundle: true, uploadedRuntime: true });
    expect(r1.status.state).toBe('connected');
    expect(r1.status.info?.gpus).toHaveLength(4);
    expect(r1.status.info?.gpus[0]?.name).toMatch(/H100/);
    expect(r1.status.info?.topology?.matrix.length).toBeGreaterThanOrEqual(4);
    expect(first.steps.map((st) => st.state)).toEqual(['done', 'done', 'done', 'done', 'done']);

    const second = await fx.finish(await fx.controller.hosts.check('gpu4'));
    const r2 = HostCheckResult.parse(second.result);
    expect(r2.agent).toMatchObject({ uploadedBundle: false, uploadedRuntime: false, daemonPid: r1.agent.daemonPid });
    const listed = (await fx.controller.hosts.list()).find((h) => h.config.name === 'gpu4');
    expect(listed?.state).toBe('connected');
    await fx.controller.hosts.remove('gpu4');
  }, 240_000);

  it('refuses an unknown host key unless the user trusts it', async () => {
    const s = await sshd();
    const { task } = await addSsh(s, 'untrusted');
    const t = await fx.finish(task, () => ({ kind: 'trust-host-key', trust: false }));
    expect(t.state).toBe('failed');
    expect(t.error?.code).toBe('host-key-unknown');
    expect(t.error?.message).toContain(s.hostFingerprintSha256);
    const listed = (await fx.controller.hosts.list()).find((h) => h.config.name === 'untrusted');
    expect(listed?.state).toBe('needs-trust');
    await fx.controller.hosts.remove('untrusted');
  }, 60_000);

  it('refuses a changed host key even when the user would trust it', async () => {
    const s = await sshd();
    const { task } = await addSsh(s, 'rotating');
    expect((await fx.finish(task, trustAll)).state).toBe('succeeded');
    await s.rotateHostKey();
    let asked = false;
    const t = await fx.finish(await fx.controller.hosts.check('rotating'), (tk) => {
      asked = true;
      return trustAll(tk);
    });
    expect(asked).toBe(false);
    expect(t.state).toBe('failed');
    expect(t.error?.code).toBe('host-key-changed');
    expect(t.error?.message).toMatch(/changed/i);
    await fx.controller.hosts.remove('rotating');
  }, 90_000);

  it('gives a clear authentication error for a key the host does not accept', async () => {
    const s = await sshd();
    const { task } = await addSsh(s, 'wrongkey', s.keys.unauthorized);
    const t = await fx.finish(task, trustAll);
    expect(t.state).toBe('failed');
    expect(t.error?.code).toBe('auth-failed');
    expect(t.error?.message).toContain(s.keys.unauthorized);
    await fx.controller.hosts.remove('wrongkey');
  }, 60_000);

  it('asks for the passphrase of an encrypted key and never stores it', async () => {
    const s = await sshd();
    const { task } = await addSsh(s, 'enc', s.keys.encrypted);
    const t = await fx.finish(task, (tk) =>
      tk.prompt?.kind === 'passphrase' ? { kind: 'passphrase', passphrase: CLIENT_KEY_PASSPHRASE } : trustAll(tk),
    );
    expect(t.error).toBeUndefined();
    const fs = await import('node:fs/promises');
    for (const f of ['hosts.json', 'host-status.json', 'known_hosts']) {
      const text = await fs.readFile(`${fx.home}/${f}`, 'utf8');
      expect(text).not.toContain(CLIENT_KEY_PASSPHRASE);
    }
    await fx.controller.hosts.remove('enc');
  }, 90_000);

  it('reaches a host through a jump host', async () => {
    const pair = await startSshdPair();
    sshds.push(pair);
    const { task } = await fx.controller.hosts.add({
      kind: 'ssh',
      name: 'behind-jump',
      target: { user: pair.target.user, host: pair.target.address, port: pair.target.port },
      jump: { user: pair.jump.user, host: pair.jump.address, port: pair.jump.port },
      identityFile: pair.jump.keys.plain,
    });
    const t = await fx.finish(task, trustAll);
    expect(t.error).toBeUndefined();
    expect(HostCheckResult.parse(t.result).status.info?.hostname).toBeTruthy();
    await fx.controller.hosts.remove('behind-jump');
  }, 120_000);

  it('keeps the agent daemon running when the SSH connection drops, and the next attach finds it', async () => {
    const s = await sshd();
    const { task } = await addSsh(s, 'droppy');
    const r1 = HostCheckResult.parse((await fx.finish(task, trustAll)).result);
    s.dropConnections();
    await new Promise((r) => setTimeout(r, 500));
    const r2 = HostCheckResult.parse((await fx.finish(await fx.controller.hosts.check('droppy'))).result);
    expect(r2.agent.daemonPid).toBe(r1.agent.daemonPid);
    expect(r2.agent.uploadedBundle).toBe(false);
    await fx.controller.hosts.remove('droppy');
  }, 120_000);

  it('reports an unreachable host with its address and what to do', async () => {
    const s = await sshd();
    await s.stopDaemon();
    const { task } = await addSsh(s, 'down');
    const t = await fx.finish(task, trustAll);
    expect(t.error?.code).toBe('host-unreachable');
    expect(t.error?.message).toContain(String(s.port));
    expect((await fx.controller.hosts.list()).find((h) => h.config.name === 'down')?.state).toBe('unreachable');
    await fx.controller.hosts.remove('down');
  }, 60_000);
});

describe('this computer', () => {
  let fx: ControllerFixture;
  beforeAll(async () => {
    fx = await startControllerFixture();
  }, 120_000);
  afterAll(async () => {
    await fx?.close();
  });

  it('is a host from the start and its check runs the agent locally without SSH', async () => {
    const list = await fx.controller.hosts.list();
    expect(list.map((h) => h.config.kind)).toEqual(['local']);
    const t = await fx.finish(await fx.controller.hosts.check(list[0]!.config.name));
    expect(t.error).toBeUndefined();
    const r = HostCheckResult.parse(t.result);
    expect(r.status.state).toBe('connected');
    expect(r.status.info?.hostname).toBeTruthy();
    expect(r.agent.uploadedBundle).toBe(false);
  }, 60_000);
});
