import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserFacingError } from '../common/errors';
import { ReconnectingSession, type ReconnectState } from '../electron/control/ssh/reconnecting-session';
import { SshSession } from '../electron/control/ssh/ssh-session';
import { SshClientSandbox, waitFor } from './harness/ssh-test-env';
import { startSshd, sshdUnavailableReason, type SshdInstance } from './harness/sshd';

const unavailable = sshdUnavailableReason();

describe.skipIf(unavailable)('a host whose key changes (real sshd, rotated host key)', () => {
  let sshd: SshdInstance;
  const box = new SshClientSandbox();

  beforeAll(async () => {
    sshd = await startSshd({ address: '127.0.0.4' });
  });
  afterAll(async () => {
    await sshd?.stop();
    box.cleanup();
  });

  it('refuses the new key loudly even when the callback would trust it, and keeps the old trust', async () => {
    const o = await box.trustedOptions(sshd, { displayName: 'gpu-test' });
    const first = await SshSession.connect(o);
    await first.close();
    const oldFingerprint = sshd.hostFingerprintSha256;

    await sshd.rotateHostKey();
    expect(sshd.hostFingerprintSha256).not.toBe(oldFingerprint);

    let asked = 0;
    const err = await SshSession.connect({ ...o, onUnknownHostKey: async () => (asked++, true) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserFacingError);
    const e = err as UserFacingError;
    expect(e.code).toBe('host-key-changed');
    expect(asked).toBe(0);
    expect(e.message).toMatch(/HAS CHANGED/);
    expect(e.message).toMatch(/man-in-the-middle/);
    expect(e.message).toContain(oldFingerprint);
    expect(e.message).toContain(sshd.hostFingerprintSha256);
    expect(e.message).toContain('handoff hosts remove gpu-test');
  });

  it("points at ssh-keygen -R when the stale key is in the user's ~/.ssh/known_hosts", async () => {
    const userKh = path.join(box.dir, 'stale_user_known_hosts');
    writeFileSync(userKh, `[${sshd.address}]:${sshd.port} ssh-ed25519 ${Buffer.from(sshd.hostKeyBlob).toString('base64')}\n`);
    await sshd.rotateHostKey();
    const err = (await SshSession.connect({ ...box.options(sshd), userKnownHostsFile: userKh, onUnknownHostKey: async () => true }).catch((e: unknown) => e)) as UserFacingError;
    expect(err.code).toBe('host-key-changed');
    expect(err.message).toContain(`ssh-keygen -R '[${sshd.address}]:${sshd.port}'`);
  });

  it('reconnects after sshd comes back, but stops for good when the host key changed meanwhile', async () => {
    const states: ReconnectState[] = [];
    const rs = ReconnectingSession.fromOptions(await box.trustedOptions(sshd), { initialDelayMs: 50, maxDelayMs: 200 });
    rs.on('state', (s) => states.push(s));
    try {
      const first = await rs.start();
      const sessions: SshSession[] = [];
      rs.on('session', (s) => sessions.push(s));

      // 1. A drop while sshd is down: retries (host-unreachable) until it returns.
      await sshd.stopDaemon();
      sshd.dropConnections();
      await waitFor(() => states.filter((s) => s === 'reconnecting').length >= 3, 'several failed reconnect attempts');
      expect(first.isOpen).toBe(false);
      await sshd.startDaemon();
      await waitFor(() => sessions.length === 1, 'the reconnected session');
      expect(rs.state).toBe('connected');
      expect((await (await rs.ready()).exec(['echo', 'back'])).stdout).toBe('back\n');

      // 2. A drop after the host key changed: one attempt, then 'failed' with host-key-changed.
      await sshd.rotateHostKey();
      sshd.dropConnections();
      await waitFor(() => rs.state === 'failed', 'the reconnect to give up');
      const err = (await rs.ready().catch((e: unknown) => e)) as UserFacingError;
      expect(err.code).toBe('host-key-changed');
      const reconnectingAfterRotate = states.slice(states.lastIndexOf('connected')).filter((s) => s === 'reconnecting').length;
      expect(reconnectingAfterRotate).toBe(1);
    } finally {
      await rs.close();
    }
    expect(rs.state).toBe('closed');
  });
});
