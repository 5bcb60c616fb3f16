import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { groupMembers, parseProcStat, readProcStat, sameProcessAlive, type ProcStat } from './proc-table';

const stat = (pid: number, pgid: number, sid: number, ppid: number, startTime: number, state = 'S'): ProcStat => ({ pid, pgid, sid, ppid, startTime, state });

describe('parseProcStat', () => {
  it('reads state, parent, group, session and start time even when the command name holds spaces and parentheses', () => {
    const text = '4242 (vllm (engine) 0) S 1 4242 4242 0 -1 4194560 1 0 0 0 5 6 0 0 20 0 3 0 987654 123456 789 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0\n';
    expect(parseProcStat(text)).toEqual({ pid: 4242, state: 'S', ppid: 1, pgid: 4242, sid: 4242, startTime: 987654 });
  });

  it('returns null for text that is not a stat line', () => {
    expect(parseProcStat('')).toBeNull();
    expect(parseProcStat('12 (x) S 1 2')).toBeNull();
  });

  it('matches this process by its pid and start time, and nothing else', () => {
    const me = readProcStat(process.pid)!;
    expect(me.pid).toBe(process.pid);
    expect(sameProcessAlive(process.pid, me.startTime)).toBe(true);
    expect(sameProcessAlive(process.pid, me.startTime + 1)).toBe(false);
  });
});

describe('groupMembers', () => {
  it('finds the group, the session and descendants that moved to their own session', () => {
    const table = [
      stat(100, 100, 100, 1, 50),
      stat(101, 100, 100, 100, 51),
      stat(102, 102, 102, 101, 52), // setsid grandchild
      stat(103, 102, 102, 102, 53), // its child
      stat(200, 200, 200, 1, 60), // unrelated
      stat(104, 100, 100, 100, 54, 'Z'), // zombie: gone
    ];
    expect(groupMembers(100, 50, table).map((p) => p.pid).sort()).toEqual([100, 101, 102, 103]);
  });

  it('returns nothing when the leader pid now belongs to a process with another start time (recycled)', () => {
    const table = [stat(100, 100, 100, 1, 999), stat(101, 100, 100, 100, 1000)];
    expect(groupMembers(100, 50, table)).toEqual([]);
  });

  it('still finds members after the leader died, but never processes older than the leader', () => {
    const table = [stat(101, 100, 100, 1, 51), stat(90, 100, 100, 1, 10)];
    expect(groupMembers(100, 50, table).map((p) => p.pid)).toEqual([101]);
  });

  it('sees a real detached child as the leader of its own group', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)'], { detached: true, stdio: 'ignore' });
    try {
      await new Promise((r) => child.once('spawn', r));
      const s = readProcStat(child.pid!)!;
      expect(s).toMatchObject({ pgid: child.pid, sid: child.pid });
      expect(groupMembers(child.pid!, s.startTime).map((p) => p.pid)).toEqual([child.pid]);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
