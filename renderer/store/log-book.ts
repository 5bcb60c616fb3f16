import type { DeploymentLogLine, DeploymentLogs } from '../../common/deployment-view';

export interface LogEntry {
  /** Arrival order across processes, so "all processes" interleaves as lines came in. */
  seq: number;
  process: string;
  line: string;
}

/** Lines kept per process; older ones are dropped (the full log stays in the file on the host). */
export const LOG_LINES_PER_PROCESS = 2000;
/** Events for a follow id this window has not registered yet, kept until its reply arrives. */
const PENDING_LIMIT = 1000;

/**
 * The followed log lines of deployments, outside React state: a chatty worker can print hundreds
 * of lines a second, and the store only carries a throttled version number for them.
 */
export class LogBook {
  private readonly byId = new Map<string, Map<string, LogEntry[]>>();
  /** followId → deployment id, for the follows this window started. */
  private readonly follows = new Map<string, string>();
  private pending: DeploymentLogLine[] = [];
  private seq = 0;

  constructor(private readonly perProcess: number = LOG_LINES_PER_PROCESS) {}

  /** Starts over with the lines of a logs reply; its followId (if any) is accepted from now on. */
  reset(id: string, reply: DeploymentLogs): void {
    const procs = new Map<string, LogEntry[]>();
    for (const l of reply.logs) {
      const list = procs.get(l.process) ?? [];
      for (const line of l.lines) list.push({ seq: this.seq++, process: l.process, line });
      procs.set(l.process, list.slice(-this.perProcess));
    }
    this.byId.set(id, procs);
    if (reply.followId) {
      this.follows.set(reply.followId, id);
      // Lines the controller sent before its reply named the follow id.
      const mine = this.pending.filter((p) => p.followId === reply.followId);
      this.pending = this.pending.filter((p) => p.followId !== reply.followId);
      for (const l of mine) this.append(l);
    }
  }

  /** A deployments.log event: true when it belongs to a follow of this window. */
  append(l: DeploymentLogLine): boolean {
    const id = this.follows.get(l.followId);
    if (id === undefined) {
      this.pending.push(l);
      if (this.pending.length > PENDING_LIMIT) this.pending.splice(0, this.pending.length - PENDING_LIMIT);
      return false;
    }
    let procs = this.byId.get(id);
    if (!procs) {
      procs = new Map();
      this.byId.set(id, procs);
    }
    let list = procs.get(l.process);
    if (!list) {
      list = [];
      procs.set(l.process, list);
    }
    list.push({ seq: this.seq++, process: l.process, line: l.line });
    // Trim in chunks so each line costs O(1) on average.
    if (list.length > this.perProcess * 1.25) list.splice(0, list.length - this.perProcess);
    return true;
  }

  forget(followId: string): void {
    this.follows.delete(followId);
  }

  processes(id: string): string[] {
    return [...(this.byId.get(id)?.keys() ?? [])];
  }

  /** The newest `limit` lines of one process, or of all interleaved by arrival. */
  lines(id: string, process: string | null, limit: number): LogEntry[] {
    const procs = this.byId.get(id);
    if (!procs) return [];
    if (process !== null) return (procs.get(process) ?? []).slice(-Math.min(limit, this.perProcess));
    const all: LogEntry[] = [];
    for (const list of procs.values()) for (const e of list.slice(-Math.min(limit, this.perProcess))) all.push(e);
    all.sort((a, b) => a.seq - b.seq);
    return all.slice(-limit);
  }
}
