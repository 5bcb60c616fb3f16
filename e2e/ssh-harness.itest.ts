import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { SshSession } from '../electron/control/ssh/ssh-session';
import { isAlive } from './harness/procs';
import { SshClientSandbox } from './harness/ssh-test-env';
import { startSshd, sshdUnavailableReason, type SshdInstance } from './harness/sshd';

const unavailable = sshdUnavailableReason();

/** What the harness promises the tests that build on it (agent install, discovery). */
describe.skipIf(unavailable)('the real-sshd test harness', () => {
  const box = new SshClientSandbox();
  const started: SshdInstance[] = [];
  afterAll(async () => {
    await Promise.all(started.map((s) => s.stop()));
    box.cleanup();
  });

  async function shell(sshd: SshdInstance, script: string) {
    const s = await SshSession.connect(await box.trustedOptions(sshd));
    try {
      return await s.exec(['sh', '-c', script]);
    } finally {
      await s.close();
    }
  }

  it('starts several instances at once on different loopback addresses, each with its own user', async () => {
    const [a, b, c] = await Promise.all([
      startSshd({ address: '127.0.0.5' }),
      startSshd({ address: '127.0.0.6', withNode: false, fakeGpus: 2 }),
      startSshd({ address: '127.0.0.5', fakeNvidiaSmi: false }),
    ]);
    started.push(a!, b!, c!);
    expect(new Set([a!.user, b!.user, c!.user]).size).toBe(3);
    expect(a!.user).toMatch(/^hot-[0-9a-f]{6}$/);
    expect(a!.port).not.toBe(c!.port);

    const withNode = await shell(a!, 'echo "$PATH"; command -v node; command -v nvidia-smi');
    expect(withNode.stdout.split('\n')[0]).toMatch(new RegExp(`^${a!.home}/fakebin:`));
    expect(withNode.stdout).toContain('/node\n');
    expect(withNode.stdout).toContain(`${a!.home}/fakebin/nvidia-smi`);

    // No node anywhere on PATH, but every tool an installer needs.
    const noNode = await shell(b!, 'command -v node || echo no-node; for t in sh tar xz mkdir mv rm uname ldd flock cat ln chmod sha256sum sed awk ps kill setsid nohup; do command -v $t >/dev/null || echo "missing $t"; done; nvidia-smi -L');
    expect(noNode.code).toBe(0);
    expect(noNode.stdout).toMatch(/^no-node\n/);
    expect(noNode.stdout).not.toContain('missing');
    expect(noNode.stdout.match(/^GPU \d+:/gm)).toHaveLength(2);

    const none = await shell(c!, 'command -v nvidia-smi || echo none');
    expect(none.stdout).toBe('none\n');
  });

  it('removes the user, its home and every process of the user on stop, and stop is idempotent', async () => {
    const s = await startSshd({ address: '127.0.0.7' });
    // A background process of the user that outlives the session, like the agent daemon.
    await shell(s, `setsid sh -c 'echo $$ > "$HOME/bg.pid"; exec sleep 300' </dev/null >/dev/null 2>&1 &`);
    const pid = Number((await shell(s, 'while [ ! -s "$HOME/bg.pid" ]; do sleep 0.05; done; cat "$HOME/bg.pid"')).stdout);
    expect(isAlive(pid)).toBe(true);
    await s.stop();
    await s.stop();
    expect(isAlive(pid)).toBe(false);
    expect(spawnSync('id', [s.user]).status).not.toBe(0);
    expect(existsSync(s.home)).toBe(false);
    expect(existsSync(s.dir)).toBe(false);
  });
});
