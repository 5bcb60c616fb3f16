import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserFacingError } from '../common/errors';
import { SshSession, type SshStep, type SshStepState } from '../electron/control/ssh/ssh-session';
import { SshClientSandbox } from './harness/ssh-test-env';
import { CLIENT_KEY_PASSPHRASE, startSshd, sshdUnavailableReason, type SshdInstance } from './harness/sshd';

const unavailable = sshdUnavailableReason();
if (unavailable) console.warn(`skipping real-sshd tests: ${unavailable}`);

async function failure(p: Promise<unknown>): Promise<UserFacingError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof UserFacingError)) throw new Error(`expected a UserFacingError, got ${String(err)}`);
  return err;
}

describe.skipIf(unavailable)('SshSession against a real sshd', () => {
  let sshd: SshdInstance;
  const box = new SshClientSandbox();
  const sessions: SshSession[] = [];
  const keep = (s: SshSession) => (sessions.push(s), s);

  beforeAll(async () => {
    sshd = await startSshd({ address: '127.0.0.1' });
  });
  afterAll(async () => {
    await Promise.all(sessions.map((s) => s.close()));
    await sshd?.stop();
    box.cleanup();
  });

  it('connects with a key file, reports each step, and runs a command as the test user', async () => {
    const steps: [SshStep, SshStepState][] = [];
    const s = keep(await SshSession.connect(await box.trustedOptions(sshd, { onStep: (step, state) => steps.push([step, state]) })));
    const r = await s.exec(['id', '-un']);
    expect(r).toMatchObject({ code: 0, stdout: `${sshd.user}\n`, stderr: '' });
    expect(steps).toEqual([
      ['tcp', 'running'],
      ['tcp', 'done'],
      ['host-key', 'running'],
      ['host-key', 'done'],
      ['auth', 'running'],
      ['auth', 'done'],
    ]);
  });

  it('refuses an unknown host key when the callback says no, names the fingerprint, and saves nothing', async () => {
    const asked: string[] = [];
    const o = box.options(sshd, { onUnknownHostKey: async (k) => (asked.push(k.fingerprint), false) });
    const err = await failure(SshSession.connect(o));
    expect(err.code).toBe('host-key-unknown');
    expect(err.message).toContain(sshd.hostFingerprintSha256);
    expect(err.message).toContain('--trust-host-key');
    expect(asked).toEqual([sshd.hostFingerprintSha256]);
    expect(existsSync(o.knownHostsFile)).toBe(false);
  });

  it('trusts an unknown key when the callback says yes, saves it, and does not ask again', async () => {
    const prompts: unknown[] = [];
    const o = box.options(sshd, {
      onUnknownHostKey: async (k) => {
        prompts.push(k);
        return true;
      },
    });
    keep(await SshSession.connect(o));
    expect(prompts).toEqual([
      { host: sshd.address, port: sshd.port, keyType: 'ssh-ed25519', fingerprint: sshd.hostFingerprintSha256, role: 'host', otherTypesKnown: [] },
    ]);
    expect(readFileSync(o.knownHostsFile, 'utf8')).toContain(`[${sshd.address}]:${sshd.port} ssh-ed25519 `);
    const again = keep(
      await SshSession.connect({
        ...o,
        onUnknownHostKey: async () => {
          throw new Error('must not ask for a trusted key');
        },
      }),
    );
    expect((await again.exec(['true'])).code).toBe(0);
  });

  it("accepts a key found (hashed) in the user's ~/.ssh/known_hosts without asking", async () => {
    const own = box.options(sshd);
    const userKh = path.join(box.dir, 'hashed_known_hosts');
    writeFileSync(userKh, `[${sshd.address}]:${sshd.port} ${sshd.hostPublicKey}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', userKh], { stdio: 'ignore' });
    const s = keep(await SshSession.connect({ ...own, userKnownHostsFile: userKh }));
    expect(s.isOpen).toBe(true);
    expect(existsSync(own.knownHostsFile)).toBe(false);
  });

  it('gives a clear auth error naming the key when the server does not accept it', async () => {
    const err = await failure(SshSession.connect(await box.trustedOptions(sshd, { identityFile: sshd.keys.unauthorized })));
    expect(err.code).toBe('auth-failed');
    expect(err.message).toContain(sshd.keys.unauthorized);
    expect(err.message).toContain(`${sshd.user}@${sshd.address}:${sshd.port}`);
    expect(err.message).toMatch(/authorized_keys/);
  });

  it('says there is no key to try when no identity, agent or default key exists', async () => {
    const o = await box.trustedOptions(sshd);
    delete o.identityFile;
    const err = await failure(SshSession.connect(o));
    expect(err.code).toBe('auth-failed');
    expect(err.message).toMatch(/No key to log in/);
  });

  it('uses a default key from ~/.ssh when no identity is given', async () => {
    const home = path.join(box.dir, 'home-with-key');
    execFileSync('mkdir', ['-p', path.join(home, '.ssh')]);
    writeFileSync(path.join(home, '.ssh', 'id_ed25519'), readFileSync(sshd.keys.plain), { mode: 0o600 });
    const o = await box.trustedOptions(sshd, { homeDir: home });
    delete o.identityFile;
    keep(await SshSession.connect(o));
  });

  it('reports a missing or non-private identity file before connecting', async () => {
    const missing = await failure(SshSession.connect(await box.trustedOptions(sshd, { identityFile: path.join(box.dir, 'nope') })));
    expect(missing.code).toBe('identity-invalid');
    expect(missing.message).toMatch(/does not exist/);
    const pub = await failure(SshSession.connect(await box.trustedOptions(sshd, { identityFile: sshd.keys.plain + '.pub' })));
    expect(pub.code).toBe('identity-invalid');
  });

  it('decrypts a passphrase-protected key through onPassphrase', async () => {
    const asked: string[] = [];
    const s = keep(
      await SshSession.connect(
        await box.trustedOptions(sshd, {
          identityFile: sshd.keys.encrypted,
          onPassphrase: async (file) => (asked.push(file), CLIENT_KEY_PASSPHRASE),
        }),
      ),
    );
    expect(asked).toEqual([sshd.keys.encrypted]);
    expect((await s.exec(['true'])).code).toBe(0);
  });

  it('fails with passphrase-required (and the CLI flag to use) when no passphrase can be asked, before any network step', async () => {
    const steps: string[] = [];
    const err = await failure(SshSession.connect(await box.trustedOptions(sshd, { identityFile: sshd.keys.encrypted, onStep: (s) => steps.push(s) })));
    expect(err.code).toBe('passphrase-required');
    expect(err.message).toContain('--identity-passphrase-env');
    expect(steps).toEqual([]);
  });

  it('asks again after a wrong passphrase and gives up after three tries', async () => {
    const attempts: number[] = [];
    const err = await failure(
      SshSession.connect(
        await box.trustedOptions(sshd, {
          identityFile: sshd.keys.encrypted,
          onPassphrase: async (_f, info) => (attempts.push(info?.attempt ?? 0), 'wrong'),
        }),
      ),
    );
    expect(err.code).toBe('passphrase-wrong');
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('resolves a ~/.ssh/config alias (HostName, User, Port, IdentityFile)', async () => {
    const cfg = path.join(box.dir, 'alias_config');
    writeFileSync(cfg, `Host gpu-alias\n  HostName ${sshd.address}\n  User ${sshd.user}\n  Port ${sshd.port}\n  IdentityFile ${sshd.keys.plain}\n`);
    const o = await box.trustedOptions(sshd, { target: { host: 'gpu-alias' }, sshConfigFile: cfg });
    delete o.identityFile;
    const s = keep(await SshSession.connect(o));
    expect(s.describe()).toBe(`${sshd.user}@${sshd.address}:${sshd.port}`);
    expect((await s.exec(['id', '-un'])).stdout.trim()).toBe(sshd.user);
  });

  it('reports a refused port as host-unreachable naming host and port', async () => {
    const o = await box.trustedOptions(sshd, { target: { user: sshd.user, host: '127.0.0.1', port: 1 } });
    const err = await failure(SshSession.connect(o));
    expect(err.code).toBe('host-unreachable');
    expect(err.message).toContain('127.0.0.1:1');
    expect(err.message).toMatch(/refused/);
  });

  it('reports a service that is not SSH as a failed SSH handshake', async () => {
    const web = http.createServer((_req, res) => res.end('hi'));
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (web.address() as AddressInfo).port;
      const err = await failure(SshSession.connect(await box.trustedOptions(sshd, { target: { user: 'x', host: '127.0.0.1', port } })));
      expect(err.code).toBe('ssh-failed');
      expect(err.message).toContain(`Check that an SSH server listens on 127.0.0.1:${port}`);
    } finally {
      web.closeAllConnections();
      web.close();
    }
  });

  it('reports a server that never speaks SSH as host-unreachable after the ready timeout', async () => {
    const conns = new Set<net.Socket>();
    const silent = net.createServer((c) => void conns.add(c)); // accepts TCP, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (silent.address() as AddressInfo).port;
      const err = await failure(SshSession.connect(await box.trustedOptions(sshd, { target: { user: 'x', host: '127.0.0.1', port }, readyTimeoutMs: 500 })));
      expect(err.code).toBe('host-unreachable');
      expect(err.message).toMatch(/No answer from 127\.0\.0\.1:\d+ within/);
    } finally {
      for (const c of conns) c.destroy();
      silent.close();
    }
  });

  describe('on a connected session', () => {
    let s: SshSession;
    beforeAll(async () => {
      s = keep(await SshSession.connect(await box.trustedOptions(sshd)));
    });

    it('round-trips nasty argv through exec unchanged', async () => {
      const nasty = ['', ' ', "it's", '"q"', '$HOME', '$(id)', '`id`', 'a\nb', '\\', '*', '~', '!x', 'a;b', '|', '>f', '--x=a b', 'ünï ✓', 'A=b'];
      const r = await s.exec(['printf', '%s\\0', ...nasty]);
      expect(r.code).toBe(0);
      expect(r.stdout.split('\0').slice(0, -1)).toEqual(nasty);
    });

    it('passes stdin, exit codes, stderr and env through', async () => {
      expect(await s.exec(['cat'], { stdin: 'line1\nline2\n' })).toMatchObject({ code: 0, stdout: 'line1\nline2\n' });
      expect(await s.exec(['sh', '-c', 'echo oops >&2; exit 3'])).toMatchObject({ code: 3, stderr: 'oops\n' });
      expect((await s.exec(['sh', '-c', 'printf %s "$GREETING"'], { env: { GREETING: "hi 'there'" } })).stdout).toBe("hi 'there'");
      expect((await s.exec(['no-such-command-xyz'])).code).toBe(127);
    });

    it('stops a command that outlives its timeout with exec-timeout, and honours an abort signal', async () => {
      const err = await failure(s.exec(['sleep', '30'], { timeoutMs: 300 }));
      expect(err.code).toBe('exec-timeout');
      const ac = new AbortController();
      const p = s.exec(['sleep', '30'], { signal: ac.signal });
      setTimeout(() => ac.abort(new UserFacingError('cancelled', 'stopped by test')), 100);
      expect((await failure(p)).message).toBe('stopped by test');
      expect((await s.exec(['echo', 'still usable'])).stdout).toBe('still usable\n');
    });

    it('queues concurrent execs beyond the server session limit instead of failing', async () => {
      const rs = await Promise.all(Array.from({ length: 25 }, (_, i) => s.exec(['sh', '-c', `sleep 0.05; echo ${i}`])));
      expect(rs.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 25 }, (_, i) => String(i)));
    });

    it('spawns a long-lived process with streaming stdin/stdout and an exit status', async () => {
      const p = await s.spawn(['sh', '-c', 'while read l; do echo "got $l"; done; exit 7']);
      const chunks: string[] = [];
      p.stdout.on('data', (b: Buffer) => chunks.push(b.toString()));
      p.stdin.write('a\n');
      p.stdin.write('b\n');
      p.stdin.end();
      expect(await p.exit).toEqual({ code: 7, signal: null, connectionLost: false });
      expect(chunks.join('')).toBe('got a\ngot b\n');
    });

    it('uploads a 30 MB file intact through SFTP, creating directories, and reports progress', async () => {
      const local = path.join(box.dir, 'big.bin');
      const data = randomBytes(30 * 1024 * 1024);
      writeFileSync(local, data);
      let last = [0, 0];
      await s.mkdirp('~/up/deep/dir');
      await s.upload(local, '~/up/deep/dir/big.bin', (sent, total) => (last = [sent, total]));
      expect(last).toEqual([data.length, data.length]);
      const r = await s.exec(['sha256sum', `${sshd.home}/up/deep/dir/big.bin`]);
      expect(r.stdout.split(' ')[0]).toBe(createHash('sha256').update(data).digest('hex'));
      // No temp file left behind, and a second upload replaces the first atomically.
      await s.upload(local, '~/up/deep/dir/big.bin');
      expect((await s.exec(['ls', `${sshd.home}/up/deep/dir`])).stdout).toBe('big.bin\n');
    });

    it('writes and reads small files, and reads a missing file as null', async () => {
      await s.writeFile('~/note.txt', 'hello\n', { mode: 0o600 });
      expect((await s.readFile('~/note.txt'))?.toString()).toBe('hello\n');
      expect(await s.readFile('~/missing.txt')).toBeNull();
    });

    it('carries HTTP through a local forward to a server on the remote side', async () => {
      // The "remote side" is the host's loopback, which here is also ours.
      const srv = http.createServer((req, res) => res.end(`echo ${req.url}`));
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
      try {
        const fwd = await s.forwardLocal({ remoteHost: '127.0.0.1', remotePort: (srv.address() as AddressInfo).port });
        const bodies = await Promise.all(
          Array.from({ length: 30 }, (_, i) => fetch(`http://127.0.0.1:${fwd.localPort}/r${i}`).then((r) => r.text())),
        );
        expect(bodies).toEqual(Array.from({ length: 30 }, (_, i) => `echo /r${i}`));
        await fwd.close();
        await expect(fetch(`http://127.0.0.1:${fwd.localPort}/`)).rejects.toThrow();
      } finally {
        srv.closeAllConnections();
        srv.close();
      }
    });

    it('closes a forward connection cleanly when nothing listens on the remote port', async () => {
      const fwd = await s.forwardLocal({ remoteHost: '127.0.0.1', remotePort: 1 });
      await expect(fetch(`http://127.0.0.1:${fwd.localPort}/`)).rejects.toThrow();
      await fwd.close();
    });
  });

  it('detects a dropped connection: close event, then clear connection-lost errors', async () => {
    const s = await SshSession.connect(await box.trustedOptions(sshd));
    const attach = await s.spawn(['sleep', '60']);
    const closed = new Promise((r) => s.onClose(r));
    sshd.dropConnections();
    const info = (await closed) as { expected: boolean; error?: UserFacingError };
    expect(info.expected).toBe(false);
    expect(info.error?.code).toBe('connection-lost');
    expect(await attach.exit).toEqual({ code: null, signal: null, connectionLost: true });
    expect(s.isOpen).toBe(false);
    expect((await failure(s.exec(['true']))).code).toBe('connection-lost');
  });

  it('detects a silent hang through keepalive', async () => {
    const s = await SshSession.connect(await box.trustedOptions(sshd, { keepaliveIntervalMs: 200, keepaliveCountMax: 2 }));
    const closed = new Promise<{ expected: boolean }>((r) => s.onClose(r));
    sshd.freezeConnections();
    try {
      expect((await closed).expected).toBe(false);
    } finally {
      sshd.thawConnections();
    }
  });

  it('marks close() as expected', async () => {
    const s = await SshSession.connect(await box.trustedOptions(sshd));
    const closed = new Promise<{ expected: boolean }>((r) => s.onClose(r));
    await s.close();
    await s.close();
    expect((await closed).expected).toBe(true);
  });
});
