import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserFacingError } from '../common/errors';
import { SshSession, type UnknownHostKey } from '../electron/control/ssh/ssh-session';
import { SshClientSandbox } from './harness/ssh-test-env';
import { startSshdPair, sshdUnavailableReason, type SshdPair } from './harness/sshd';

const unavailable = sshdUnavailableReason();

describe.skipIf(unavailable)('SshSession through a jump host (two real sshd)', () => {
  let pair: SshdPair;
  const box = new SshClientSandbox();

  beforeAll(async () => {
    pair = await startSshdPair();
  });
  afterAll(async () => {
    await pair?.stop();
    box.cleanup();
  });

  const jumpTarget = () => ({ user: pair.jump.user, host: pair.jump.address, port: pair.jump.port });

  it('verifies both host keys, logs in to both, and runs commands on the target', async () => {
    const prompts: UnknownHostKey[] = [];
    const o = box.options(pair.target, { jump: jumpTarget(), onUnknownHostKey: async (k) => (prompts.push(k), true) });
    const s = await SshSession.connect(o);
    try {
      expect(prompts.map((p) => [p.role, p.host, p.port, p.fingerprint])).toEqual([
        ['jump host', pair.jump.address, pair.jump.port, pair.jump.hostFingerprintSha256],
        ['host', pair.target.address, pair.target.port, pair.target.hostFingerprintSha256],
      ]);
      expect((await s.exec(['id', '-un'])).stdout.trim()).toBe(pair.target.user);
      // The target's sshd saw a login for its user, the jump host's sshd one for its user.
      expect(pair.jump.logs()).toContain(`Accepted publickey for ${pair.jump.user}`);
      expect(pair.target.logs()).toContain(`Accepted publickey for ${pair.target.user}`);

      // A second connection asks nothing: both keys were saved.
      const again = await SshSession.connect({ ...o, onUnknownHostKey: async () => { throw new Error('must not ask'); } });
      await again.close();
    } finally {
      await s.close();
    }
  });

  it('refuses an unknown jump host key with host-key-unknown naming the jump host', async () => {
    const err = (await SshSession.connect(box.options(pair.target, { jump: jumpTarget() })).catch((e: unknown) => e)) as UserFacingError;
    expect(err).toBeInstanceOf(UserFacingError);
    expect(err.code).toBe('host-key-unknown');
    expect(err.message).toContain(`jump host ${pair.jump.address}:${pair.jump.port}`);
    expect(err.message).toContain(pair.jump.hostFingerprintSha256);
  });

  it('takes the jump host from ~/.ssh/config ProxyJump', async () => {
    const cfg = path.join(box.dir, 'jump_config');
    writeFileSync(
      cfg,
      `Host bastion\n  HostName ${pair.jump.address}\n  Port ${pair.jump.port}\n  User ${pair.jump.user}\n  IdentityFile ${pair.jump.keys.plain}\n\n` +
        `Host inner\n  HostName ${pair.target.address}\n  Port ${pair.target.port}\n  User ${pair.target.user}\n  ProxyJump bastion\n  IdentityFile ${pair.target.keys.plain}\n`,
    );
    const o = box.options(pair.target, { target: { host: 'inner' }, sshConfigFile: cfg, onUnknownHostKey: async () => true });
    delete o.identityFile;
    const s = await SshSession.connect(o);
    try {
      expect((await s.exec(['hostname'])).code).toBe(0);
      expect(s.describe()).toBe(`${pair.target.user}@${pair.target.address}:${pair.target.port}`);
    } finally {
      await s.close();
    }
  });

  it('says which hop failed: a target the jump host cannot reach gives jump-failed', async () => {
    const o = box.options(pair.target, { target: { user: pair.target.user, host: '127.0.0.3', port: 1 }, jump: jumpTarget(), onUnknownHostKey: async () => true });
    const err = (await SshSession.connect(o).catch((e: unknown) => e)) as UserFacingError;
    expect(err.code).toBe('jump-failed');
    expect(err.message).toContain(`could not open a connection to 127.0.0.3:1`);
  });

  it('reports a login refused by the jump host as jump-failed with the auth reason', async () => {
    const o = box.options(pair.target, { jump: { ...jumpTarget(), user: pair.target.user }, onUnknownHostKey: async () => true });
    const err = (await SshSession.connect(o).catch((e: unknown) => e)) as UserFacingError;
    expect(err.code).toBe('jump-failed');
    expect((err.details as { cause: string }).cause).toBe('auth-failed');
    expect(err.message).toMatch(/jump host .* refused the login/);
  });

  it('detects the drop when the jump host connection dies', async () => {
    const s = await SshSession.connect(box.options(pair.target, { jump: jumpTarget(), onUnknownHostKey: async () => true }));
    const closed = new Promise<{ expected: boolean }>((r) => s.onClose(r));
    pair.jump.dropConnections();
    expect((await closed).expected).toBe(false);
  });
});
