/**
 * Figures of issue 2: the first `hosts check` of a fresh loopback host (agent bundle + Node
 * runtime upload) under 8 s, and a repeat check under 1 s, beside a bare ssh2 connect + exec
 * measured in the same run.
 */
import ssh2 from 'ssh2';
import fs from 'node:fs';
import type { BenchRow } from './bench-row';
import { startSshd, sshdUnavailableReason, type SshdInstance } from '../e2e/harness/sshd';
import { startControllerFixture, trustAll } from '../e2e/harness/controller-fixture';
import { buildNodeRuntime } from '../build/node-runtime';

function bareConnectExec(s: SshdInstance): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const c = new ssh2.Client();
    c.on('ready', () => {
      c.exec('true', (err, ch) => {
        if (err) return reject(err);
        ch.on('close', () => {
          c.end();
          resolve(performance.now() - t0);
        });
        ch.resume();
      });
    });
    c.on('error', reject);
    c.connect({ host: s.address, port: s.port, username: s.user, privateKey: fs.readFileSync(s.keys.plain), hostVerifier: () => true });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchHostsCheck(): Promise<BenchRow[]> {
  const why = sshdUnavailableReason();
  if (why) throw new Error(`needs a real sshd: ${why}`);
  delete process.env.SSH_AUTH_SOCK;
  await buildNodeRuntime('x64'); // the tarball is a build output, cached; building it is not part of a check
  const s = await startSshd({ withNode: false });
  const fx = await startControllerFixture();
  try {
    const baseline = median(await Promise.all([0, 1, 2, 3, 4].map(() => bareConnectExec(s))));
    const { task } = await fx.controller.hosts.add({ kind: 'ssh', name: 'bench', target: { user: s.user, host: s.address, port: s.port }, identityFile: s.keys.plain });
    const t0 = performance.now();
    const first = await fx.finish(task, trustAll);
    const firstMs = performance.now() - t0;
    if (first.state !== 'succeeded') throw new Error(first.error?.message ?? 'first check failed');
    const repeats: number[] = [];
    for (let i = 0; i < 5; i++) {
      fx.controller.hosts.disconnect('bench'); // as a fresh CLI process would: new SSH connection each time
      const r0 = performance.now();
      const t = await fx.finish(await fx.controller.hosts.check('bench'));
      if (t.state !== 'succeeded') throw new Error(t.error?.message ?? 'repeat check failed');
      repeats.push(performance.now() - r0);
    }
    return [
      { figure: 'first hosts check (agent + runtime upload)', value: firstMs / 1000, unit: 's', goal: '< 8 s', baseline: baseline / 1000, baselineLabel: 'bare ssh2 connect+exec' },
      { figure: 'repeat hosts check (median of 5)', value: median(repeats) / 1000, unit: 's', goal: '< 1 s', baseline: baseline / 1000, baselineLabel: 'bare ssh2 connect+exec' },
    ];
  } finally {
    await fx.close();
    await s.stop();
  }
}
