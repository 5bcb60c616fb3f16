import fs from 'node:fs';

/**
 * What the supervisor reads from /proc (Linux only): a process's state, parent, group, session and
 * start time. The start time (stat field 22, clock ticks after boot) is what makes a pid an
 * identity: a recycled pid has a different one, so it is never mistaken for ours.
 */

export interface ProcStat {
  pid: number;
  /** R, S, D, Z, T… (field 3). */
  state: string;
  ppid: number;
  pgid: number;
  sid: number;
  /** Clock ticks after boot (field 22). */
  startTime: number;
}

/** Parses /proc/<pid>/stat text. The command name (field 2) may hold spaces and parentheses, so fields are split after the last ")". */
export function parseProcStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  const rest = text.slice(close + 1).trim().split(/\s+/);
  // rest[0] is field 3; field N is rest[N - 3].
  const state = rest[0];
  const nums = [rest[1], rest[2], rest[3], rest[19]].map((s) => (s === undefined ? NaN : Number(s)));
  const [ppid, pgid, sid, startTime] = nums as [number, number, number, number];
  if (!Number.isInteger(pid) || !state || ![ppid, pgid, sid, startTime].every(Number.isInteger)) return null;
  return { pid, state, ppid, pgid, sid, startTime };
}

export function readProcStat(pid: number, procRoot = '/proc'): ProcStat | null {
  try {
    return parseProcStat(fs.readFileSync(`${procRoot}/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** Every process, skipping those that exit while the table is read. */
export function listProcStats(procRoot = '/proc'): ProcStat[] {
  const out: ProcStat[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(procRoot);
  } catch {
    return out;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const s = readProcStat(Number(name), procRoot);
    if (s) out.push(s);
  }
  return out;
}

/** Zombies hold nothing but a pid and are reaped by their parent or init: for liveness they are gone. */
export function isRunning(s: ProcStat | null): s is ProcStat {
  return s !== null && s.state !== 'Z' && s.state !== 'X';
}

/** True while `pid` is the very process that started at `startTime` and has not exited. */
export function sameProcessAlive(pid: number, startTime: number, procRoot = '/proc'): boolean {
  const s = readProcStat(pid, procRoot);
  return isRunning(s) && s.startTime === startTime;
}

/**
 * The live processes that belong to the group led by `leaderPid` (started at `leaderStartTime`):
 * members of its process group or session, plus their descendants that moved to a group or session
 * of their own. Linux never hands out a pid that is still some process's group or session id, so
 * members can only be ours; but when the leader is gone and a *different* process now has its pid,
 * the id was recycled after the group emptied, and nothing is returned.
 */
export function groupMembers(leaderPid: number, leaderStartTime: number | null, table: ProcStat[] = listProcStats()): ProcStat[] {
  const leader = table.find((p) => p.pid === leaderPid);
  if (leader && leaderStartTime !== null && leader.startTime !== leaderStartTime) return [];
  const members = new Map<number, ProcStat>();
  for (const p of table) {
    if (p.pgid !== leaderPid && p.sid !== leaderPid) continue;
    // A member started before the leader cannot be one of its processes.
    if (leaderStartTime !== null && p.startTime < leaderStartTime) continue;
    members.set(p.pid, p);
  }
  // Descendants that called setsid/setpgid keep their parent link while the parent lives.
  const children = new Map<number, ProcStat[]>();
  for (const p of table) {
    const list = children.get(p.ppid);
    if (list) list.push(p);
    else children.set(p.ppid, [p]);
  }
  const queue = [...members.keys()];
  while (queue.length) {
    for (const c of children.get(queue.pop()!) ?? []) {
      if (members.has(c.pid)) continue;
      members.set(c.pid, c);
      queue.push(c.pid);
    }
  }
  return [...members.values()].filter(isRunning);
}

/** Changes on every boot: start times from another boot mean nothing. */
export function readBootId(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

/** Sends a signal, ignoring a process or group that is already gone. */
export function signalQuietly(target: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(target, signal);
    return true;
  } catch {
    return false;
  }
}
