import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import type { RunFileEntry } from '../../../common/bench-rpc';
import { describeZodError, UserFacingError } from '../../../common/errors';
import { RunJson, TRANSFERS_JSONL } from '../../../common/run-record';

/**
 * The local run store: `$HANDOFF_HOME/runs/<id>/` per run (DESIGN.md, Run record). A run is
 * assembled in `runs/.tmp-<id>-<pid>-<rand>/` and renamed into place in one step, so a directory
 * named by a run id is always whole; a temporary directory is a half-written run, never listed,
 * and removed once the process that wrote it is gone. A run directory whose run.json is missing
 * or invalid (damaged by hand or by the disk) is listed as damaged, never as complete.
 */

const TMP_PREFIX = '.tmp-';

export const RUN_FILES = {
  runJson: 'run.json',
  requests: 'requests.jsonl',
  samples: 'samples.jsonl',
  traces: 'traces.jsonl',
  /** NIXL per-transfer telemetry (common/kv/nixl-transfer.ts); only runs of deployments that write it. */
  transfers: TRANSFERS_JSONL,
  summary: 'summary.json',
  import: 'import.json',
  artifacts: 'artifacts',
} as const;

export interface LocalRun {
  id: string;
  dir: string;
  run: RunJson | null;
  /** Why run.json could not be read; null when it could. */
  problem: string | null;
  mtimeMs: number;
}

/** A run being written: files go to a temporary directory until commit() renames it into place. */
export class RunDirWriter {
  private committed = false;
  constructor(
    readonly id: string,
    readonly tmpDir: string,
    private readonly finalDir: string,
  ) {}

  /** `rel` is a path inside the run directory; ".." and absolute paths are refused. */
  resolve(rel: string): string {
    const clean = path.posix.normalize(rel.replace(/\\/g, '/'));
    if (clean.startsWith('/') || clean === '..' || clean.startsWith('../') || clean === '.' || clean === '') {
      throw new UserFacingError('run-file-path', `"${rel}" is not a path inside a run directory.`);
    }
    return path.join(this.tmpDir, ...clean.split('/'));
  }

  async write(rel: string, data: string | Buffer): Promise<void> {
    const abs = this.resolve(rel);
    await fs.mkdir(path.dirname(abs), { recursive: true, mode: 0o700 });
    await fs.writeFile(abs, data, { mode: 0o600 });
  }

  async append(rel: string, data: string | Buffer): Promise<void> {
    const abs = this.resolve(rel);
    await fs.mkdir(path.dirname(abs), { recursive: true, mode: 0o700 });
    await fs.appendFile(abs, data, { mode: 0o600 });
  }

  /** Moves the finished run into place. A run id that already exists is refused (the first copy stays). */
  async commit(): Promise<string> {
    try {
      await fs.rename(this.tmpDir, this.finalDir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      await this.abort();
      if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new UserFacingError('run-exists', `A run "${this.id}" is already in the run store; it was kept as it is.`);
      throw err;
    }
    this.committed = true;
    return this.finalDir;
  }

  async abort(): Promise<void> {
    if (this.committed) return;
    await fs.rm(this.tmpDir, { recursive: true, force: true });
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class LocalRunStore {
  readonly root: string;

  constructor(home: string) {
    this.root = path.join(home, 'runs');
  }

  dir(id: string): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(id)) throw new UserFacingError('unknown-run', `"${id}" is not a run id.`);
    return path.join(this.root, id);
  }

  async begin(id: string): Promise<RunDirWriter> {
    const finalDir = this.dir(id);
    await fs.mkdir(this.root, { recursive: true, mode: 0o700 });
    const tmp = path.join(this.root, `${TMP_PREFIX}${id}-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
    await fs.mkdir(tmp, { mode: 0o700 });
    return new RunDirWriter(id, tmp, finalDir);
  }

  async has(id: string): Promise<boolean> {
    try {
      await fs.access(path.join(this.dir(id)));
      return true;
    } catch {
      return false;
    }
  }

  async ids(): Promise<string[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.root);
    } catch {
      return [];
    }
    const out: string[] = [];
    for (const n of names) {
      if (n.startsWith('.')) continue;
      const st = await fs.stat(path.join(this.root, n)).catch(() => null);
      if (st?.isDirectory()) out.push(n);
    }
    return out;
  }

  async read(id: string): Promise<LocalRun> {
    const dir = this.dir(id);
    const st = await fs.stat(dir).catch(() => null);
    if (!st?.isDirectory()) throw new UserFacingError('unknown-run', `There is no run "${id}". List the runs with "handoff runs".`);
    const file = path.join(dir, RUN_FILES.runJson);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch {
      return { id, dir, run: null, problem: `${file} is missing: the run directory is incomplete. Delete it with "handoff runs delete ${id}" (or import its artifacts again).`, mtimeMs: st.mtimeMs };
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { id, dir, run: null, problem: `${file} is not valid JSON (cut short or edited). Delete the run with "handoff runs delete ${id}".`, mtimeMs: st.mtimeMs };
    }
    const r = RunJson.safeParse(value);
    if (!r.success) return { id, dir, run: null, problem: `${describeZodError(file, r.error)}. Delete the run with "handoff runs delete ${id}".`, mtimeMs: st.mtimeMs };
    return { id, dir, run: r.data, problem: null, mtimeMs: st.mtimeMs };
  }

  /** A JSON file of a run validated with its schema; null when absent. */
  async readJson<T>(id: string, rel: string, schema: z.ZodType<T>): Promise<T | null> {
    const file = path.join(this.dir(id), rel);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch {
      return null;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new UserFacingError('run-file-invalid', `${file} is not valid JSON. Delete the run with "handoff runs delete ${id}" and import or collect it again.`);
    }
    const r = schema.safeParse(value);
    if (!r.success) throw new UserFacingError('run-file-invalid', `${describeZodError(file, r.error)}.`);
    return r.data;
  }

  /** Every line of a JSONL file of a run, validated; an absent file is empty. Names the line that fails. */
  async readJsonl<T>(id: string, rel: string, schema: z.ZodType<T>): Promise<T[]> {
    const file = path.join(this.dir(id), rel);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch {
      return [];
    }
    return parseJsonl(text, schema, file);
  }

  async manifest(id: string): Promise<RunFileEntry[]> {
    const dir = this.dir(id);
    const out: RunFileEntry[] = [];
    const walk = async (rel: string): Promise<void> => {
      const entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) await walk(r);
        else if (e.isFile()) out.push({ path: r, bytes: (await fs.stat(path.join(dir, r))).size });
      }
    };
    await walk('');
    return out.sort((a, b) => a.path.localeCompare(b.path));
  }

  async remove(id: string): Promise<void> {
    const dir = this.dir(id);
    // Rename first so that a crash half-way through never leaves a partly deleted run looking whole.
    const doomed = path.join(this.root, `${TMP_PREFIX}deleted-${id}-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
    try {
      await fs.rename(dir, doomed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UserFacingError('unknown-run', `There is no run "${id}".`);
      throw err;
    }
    await fs.rm(doomed, { recursive: true, force: true });
  }

  /** Removes half-written runs left by processes that are gone. */
  async cleanupTemporary(): Promise<string[]> {
    const names = await fs.readdir(this.root).catch(() => [] as string[]);
    const removed: string[] = [];
    for (const n of names) {
      if (!n.startsWith(TMP_PREFIX)) continue;
      const pid = Number(/-(\d+)-[0-9a-f]{8}$/.exec(n)?.[1]);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid)) continue;
      if (pid === process.pid) continue;
      await fs.rm(path.join(this.root, n), { recursive: true, force: true });
      removed.push(n);
    }
    return removed;
  }
}

/** Parses JSONL text line by line with a schema; the error names the file and line. Blank lines are skipped. */
export function parseJsonl<T>(text: string, schema: z.ZodType<T>, file: string): T[] {
  const out: T[] = [];
  let lineNo = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lineNo++;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (!line) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new UserFacingError('run-file-invalid', `${file}:${lineNo} is not valid JSON (the file may be cut short).`);
    }
    const r = schema.safeParse(value);
    if (!r.success) throw new UserFacingError('run-file-invalid', `${describeZodError(`${file}:${lineNo}`, r.error)}.`);
    out.push(r.data);
  }
  return out;
}
