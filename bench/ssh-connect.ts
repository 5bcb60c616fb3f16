/**
 * SSH figures on loopback against a real sshd (e2e harness): the bare ssh2 connect + exec that a
 * repeat `hosts check` can never beat (its baseline for "< 1 s"), Handoff's SshSession doing the
 * same with host-key verification, and transfer paths (SFTP upload, local forward) against
 * OpenSSH scp and a direct HTTP request measured in the same run.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import ssh2 from 'ssh2';
import { SshSession } from '../electron/control/ssh/ssh-session';
import { SshClientSandbox } from '../e2e/harness/ssh-test-env';
import { startSshd, sshdUnavailableReason, type SshdInstance } from '../e2e/harness/sshd';
import type { BenchRow } from './bench-row';

const RUNS = 10;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** The least a check can do: one ssh2 connection (no host-key lookup), one exec, disconnect. */
function bareConnectExec(sshd: SshdInstance, privateKey: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = new ssh2.Client();
    c.on('error', reject);
    c.on('ready', () => {
      c.exec('true', (err, ch) => {
        if (err) return reject(err);
        ch.resume();
        ch.on('close', () => {
          c.end();
          resolve();
        });
      });
    });
    c.connect({ host: sshd.address, port: sshd.port, username: sshd.user, privateKey, hostVerifier: () => true, readyTimeout: 10_000 });
    c.setNoDelay(true);
  });
}

/** Exec round trips on one open bare ssh2 connection. */
function bareExecOnOpenConnection(sshd: SshdInstance, privateKey: Buffer): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const c = new ssh2.Client();
    c.on('error', reject);
    c.on('ready', async () => {
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        times.push(
          await timeMs(
            () =>
              new Promise<void>((res, rej) =>
                c.exec('true', (err, ch) => {
                  if (err) return rej(err);
                  ch.resume();
                  ch.on('close', () => res());
                }),
              ),
          ),
        );
      }
      c.end();
      resolve(times);
    });
    c.connect({ host: sshd.address, port: sshd.port, username: sshd.user, privateKey, hostVerifier: () => true, readyTimeout: 10_000 });
    c.setNoDelay(true);
  });
}

async function withSshd<T>(fn: (sshd: SshdInstance, box: SshClientSandbox) => Promise<T>): Promise<T | null> {
  const why = sshdUnavailableReason();
  if (why) {
    process.stderr.write(`  skipped: ${why}\n`);
    return null;
  }
  const sshd = await startSshd();
  const box = new SshClientSandbox();
  try {
    return await fn(sshd, box);
  } finally {
    await sshd.stop();
    box.cleanup();
  }
}

export async function benchSshBaseline(): Promise<BenchRow[]> {
  const rows = await withSshd(async (sshd, box) => {
    const key = readFileSync(sshd.keys.plain);
    const opts = await box.trustedOptions(sshd);
    // One warm-up of each so module loading and sshd's first fork do not count.
    await bareConnectExec(sshd, key);
    await (await SshSession.connect(opts)).close();

    const bare: number[] = [];
    const ours: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      bare.push(await timeMs(() => bareConnectExec(sshd, key)));
      ours.push(
        await timeMs(async () => {
          const s = await SshSession.connect(opts);
          await s.exec(['true']);
          await s.close();
        }),
      );
    }
    const s = await SshSession.connect(opts);
    const execs: number[] = [];
    for (let i = 0; i < RUNS; i++) execs.push(await timeMs(() => s.exec(['true'])));
    await s.close();
    const bareExecs = await bareExecOnOpenConnection(sshd, key);
    const bareMs = median(bare);
    return [
      { figure: 'bare ssh2 connect + exec, loopback (median of 10)', value: bareMs, unit: 'ms', goal: 'baseline of repeat check < 1 s', baseline: null, baselineLabel: '-' },
      { figure: 'SshSession connect (known_hosts check) + exec', value: median(ours), unit: 'ms', goal: '< 1000 ms', baseline: bareMs, baselineLabel: 'bare ssh2 connect + exec' },
      { figure: 'exec on an open SshSession (median of 10)', value: median(execs), unit: 'ms', goal: '< 50 ms', baseline: median(bareExecs), baselineLabel: 'bare ssh2 exec, open connection' },
    ] satisfies BenchRow[];
  });
  return rows ?? [];
}

export async function benchSshTransfers(): Promise<BenchRow[]> {
  const rows = await withSshd(async (sshd, box) => {
    const file = path.join(box.dir, 'payload.bin');
    writeFileSync(file, randomBytes(30 * 1024 * 1024));
    const s = await SshSession.connect(await box.trustedOptions(sshd));
    try {
      await s.upload(file, '~/warm.bin');
      const upload = await timeMs(() => s.upload(file, '~/payload.bin'));
      const scp = await timeMs(async () => {
        const r = spawnSync('scp', ['-q', '-i', sshd.keys.plain, '-P', String(sshd.port), '-o', 'StrictHostKeyChecking=no', '-o', `UserKnownHostsFile=${path.join(box.dir, 'scp_known_hosts')}`, file, `${sshd.user}@${sshd.address}:scp.bin`]);
        if (r.status !== 0) throw new Error(`scp failed: ${r.stderr}`);
      });

      const srv = http.createServer((_req, res) => res.end('ok'));
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
      const port = (srv.address() as AddressInfo).port;
      const fwd = await s.forwardLocal({ remoteHost: '127.0.0.1', remotePort: port });
      const fifty = (p: number) => timeMs(async () => {
        for (let i = 0; i < 50; i++) await (await fetch(`http://127.0.0.1:${p}/`)).text();
      });
      await fifty(fwd.localPort);
      const viaTunnel = await fifty(fwd.localPort);
      const direct = await fifty(port);
      await fwd.close();
      srv.closeAllConnections();
      srv.close();
      return [
        { figure: 'SFTP upload 30 MB (SshSession.upload)', value: upload, unit: 'ms', goal: '< 1000 ms', baseline: scp, baselineLabel: 'OpenSSH scp incl. connect' },
        { figure: '50 sequential HTTP requests via forwardLocal', value: viaTunnel, unit: 'ms', goal: '< 500 ms', baseline: direct, baselineLabel: 'same requests, no tunnel' },
      ] satisfies BenchRow[];
    } finally {
      await s.close();
    }
  });
  return rows ?? [];
}
