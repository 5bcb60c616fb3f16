import fs from 'node:fs';
import path from 'node:path';
import { UserFacingError } from '../../common/errors';
import { RunJson, type RunStatus } from '../../common/run-record';
import type { BenchListEntry, RunFileEntry } from '../../common/bench-rpc';

/**
 * Runs on the host: `<runsDir>/<runId>/`. run.json is always replaced atomically (temp file +
 * rename), so it is either the old or the new one; record files grow as `<name>.partial` while the
 * run goes on and are renamed to their final names when it ends. A run.json that still says
 * "running" with no daemon executing it is a run the agent lost (killed, host rebooted): recover()
 * closes it as partial with what reached the disk.
 */

export const PARTIAL_SUFFIX = '.partial';
const TMP_SUFFIX = '.tmp';

export function writeFileAtomic(file: string, data: string | Buffer): void {
  const tmp = `${file}.${process.pid}${TMP_SUFFIX}`;
  fs.writeFileSync(tmp, data, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** Buffered JSONL appends: one write per batch, flushed every `flushMs` and on close. */
export class JsonlAppender {
  private pending: string[] = [];
  private readonly fd: number;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly file: string,
    private readonly flushMs = 200,
  ) {
    this.fd = fs.openSync(file, 'a', 0o600);
  }

  append(line: string): void {
    this.pending.push(line);
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length === 0) return;
    const data = this.pending.join('\n') + '\n';
    this.pending = [];
    fs.writeSync(this.fd, data);
  }

  close(): void {
    this.flush();
    fs.closeSync(this.fd);
  }
}

/** Drops a last line cut short by a crash (no newline at the end). */
function trimTornTail(file: string): void {
  const size = fs.statSync(file).size;
  if (size === 0) return;
  const fd = fs.openSync(file, 'r+');
  try {
    const tailLen = Math.min(size, 1 << 20);
    const buf = Buffer.alloc(tailLen);
    fs.readSync(fd, buf, 0, tailLen, size - tailLen);
    if (buf[tailLen - 1] === 0x0a) return;
    const nl = buf.lastIndexOf(0x0a);
    fs.ftruncateSync(fd, nl === -1 ? (tailLen === size ? 0 : size - tailLen) : size - tailLen + nl + 1);
  } finally {
    fs.closeSync(fd);
  }
}

/** Gives every `*.partial` file of a run directory its final name. */
export function promotePartials(dir: string, trimTorn: boolean): void {
  for (const f of walk(dir)) {
    if (!f.endsWith(PARTIAL_SUFFIX)) continue;
    const abs = path.join(dir, f);
    if (trimTorn && f.endsWith(`.jsonl${PARTIAL_SUFFIX}`)) trimTornTail(abs);
    fs.renameSync(abs, abs.slice(0, -PARTIAL_SUFFIX.length));
  }
}

function walk(dir: string, rel = ''): string[] {
  const out: string[] = [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(path.join(dir, rel), { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...walk(dir, r));
    else if (e.isFile()) out.push(r);
  }
  return out.sort();
}

export class RunStore {
  constructor(readonly runsDir: string) {}

  dir(runId: string): string {
    return path.join(this.runsDir, runId);
  }

  runJsonPath(runId: string): string {
    return path.join(this.dir(runId), 'run.json');
  }

  /** Makes the directory; a run id is used once. */
  create(runId: string): string {
    fs.mkdirSync(this.runsDir, { recursive: true, mode: 0o700 });
    const dir = this.dir(runId);
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new UserFacingError('run-exists', `A run with id "${runId}" already exists on this host. Pick another run id, or remove the old run with bench.remove.`);
      }
      throw err;
    }
    return dir;
  }

  writeRunJson(runId: string, run: RunJson): void {
    writeFileAtomic(this.runJsonPath(runId), JSON.stringify(RunJson.parse(run), null, 2) + '\n');
  }

  exists(runId: string): boolean {
    return fs.existsSync(this.runJsonPath(runId));
  }

  readRunJson(runId: string): RunJson {
    let text: string;
    try {
      text = fs.readFileSync(this.runJsonPath(runId), 'utf8');
    } catch {
      throw new UserFacingError('unknown-run', `There is no run "${runId}" on this host. List the runs with bench.list.`);
    }
    const r = RunJson.safeParse(JSON.parse(text) as unknown);
    if (!r.success) throw new UserFacingError('run-record-invalid', `${this.runJsonPath(runId)} is not a valid run record (${r.error.issues[0]?.message ?? 'schema mismatch'}).`);
    return r.data;
  }

  /** Every run directory with a readable run.json, newest first. */
  list(active: ReadonlySet<string>): BenchListEntry[] {
    let names: string[] = [];
    try {
      names = fs.readdirSync(this.runsDir);
    } catch {
      return [];
    }
    const out: BenchListEntry[] = [];
    for (const id of names) {
      try {
        const r = this.readRunJson(id);
        out.push({ runId: r.id, status: r.status, tool: r.tool.name, name: r.name ?? null, group: r.group ?? null, createdAt: r.timings.createdAt, finishedAt: r.timings.finishedAt, active: active.has(id) });
      } catch {
        // A directory without a valid run.json is not a run (or was never started).
      }
    }
    return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** Files of a run, temp and in-progress files left out. */
  manifest(runId: string): RunFileEntry[] {
    const dir = this.dir(runId);
    return walk(dir)
      .filter((f) => !f.endsWith(TMP_SUFFIX) && !f.endsWith(PARTIAL_SUFFIX) && !path.basename(f).startsWith('.'))
      .map((f) => ({ path: f, bytes: fs.statSync(path.join(dir, f)).size }));
  }

  readChunk(runId: string, rel: string, offset: number, maxBytes: number): { data: Buffer; totalBytes: number; eof: boolean } {
    const files = this.manifest(runId);
    if (!files.some((f) => f.path === rel)) {
      throw new UserFacingError('unknown-run-file', `Run "${runId}" has no file "${rel}". Ask bench.fetch without a path for the list of files.`);
    }
    const abs = path.join(this.dir(runId), rel);
    const fd = fs.openSync(abs, 'r');
    try {
      const totalBytes = fs.fstatSync(fd).size;
      if (offset > totalBytes) throw new UserFacingError('bad-offset', `Offset ${offset} is past the end of ${rel} (${totalBytes} bytes).`);
      const len = Math.min(maxBytes, totalBytes - offset);
      const data = Buffer.alloc(len);
      let got = 0;
      while (got < len) {
        const n = fs.readSync(fd, data, got, len - got, offset + got);
        if (n === 0) break;
        got += n;
      }
      return { data: data.subarray(0, got), totalBytes, eof: offset + got >= totalBytes };
    } finally {
      fs.closeSync(fd);
    }
  }

  remove(runId: string): void {
    this.readRunJson(runId);
    fs.rmSync(this.dir(runId), { recursive: true, force: true });
  }

  /** Closes runs left "running" by a daemon that is gone; returns their ids. */
  recover(active: ReadonlySet<string>): string[] {
    const closed: string[] = [];
    for (const e of this.list(active)) {
      if (e.status !== 'running' || e.active) continue;
      const run = this.readRunJson(e.runId);
      promotePartials(this.dir(e.runId), true);
      const status: RunStatus = 'partial';
      this.writeRunJson(e.runId, {
        ...run,
        status,
        timings: { ...run.timings, finishedAt: run.timings.finishedAt ?? new Date().toISOString() },
        notes: [...run.notes, 'The agent stopped while this run was going on (killed or host restarted); the record holds what reached the disk before that.'],
      });
      closed.push(e.runId);
    }
    return closed;
  }
}
