import { readdirSync, readFileSync } from 'node:fs';

/** A process as /proc shows it; enough to find what a test started without matching names. */
export interface ProcInfo {
  pid: number;
  ppid: number;
  uid: number;
  comm: string;
  /** Single-letter state from /proc (R, S, D, T, Z…). */
  state: string;
}

export function listProcs(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      const ppid = /^PPid:\s+(\d+)/m.exec(status);
      const uid = /^Uid:\s+(\d+)/m.exec(status);
      const comm = /^Name:\s+(.*)$/m.exec(status);
      const state = /^State:\s+(\S)/m.exec(status);
      if (!ppid || !uid || !comm || !state) continue;
      out.push({ pid: Number(name), ppid: Number(ppid[1]), uid: Number(uid[1]), comm: comm[1]!, state: state[1]! });
    } catch {
      // the process exited while we looked
    }
  }
  return out;
}

/** All descendants of `root` (not root itself), children before grandchildren. */
export function descendants(root: number, procs = listProcs()): ProcInfo[] {
  const byParent = new Map<number, ProcInfo[]>();
  for (const p of procs) {
    const list = byParent.get(p.ppid) ?? [];
    list.push(p);
    byParent.set(p.ppid, list);
  }
  const out: ProcInfo[] = [];
  const queue = [root];
  while (queue.length) {
    for (const child of byParent.get(queue.shift()!) ?? []) {
      out.push(child);
      queue.push(child.pid);
    }
  }
  return out;
}

/**
 * Whether a process runs. A zombie counts as dead: in containers whose PID 1 does not reap
 * orphans, killed processes stay zombies forever.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

export function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** The command line of a live process (NUL-separated argv joined by spaces), or null. */
export function cmdlineOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return null;
  }
}
