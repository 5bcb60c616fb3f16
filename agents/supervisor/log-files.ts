import fs from 'node:fs';

/**
 * Process logs. A supervised process writes straight into its log file (stdout and stderr share one
 * O_APPEND descriptor), not through a pipe to the daemon: a pipe would break, and the process with
 * it, when the daemon restarts. Rotation is therefore copy-then-truncate (logrotate's copytruncate):
 * the process keeps its descriptor, and O_APPEND makes its next write land at the start of the
 * emptied file. Lines written between the copy and the truncate (microseconds) can be lost.
 */

export function rotatedName(file: string, n: number): string {
  return `${file}.${n}`;
}

/** Rotates `file` when it is larger than maxBytes: .1 → .2 …, the current content → .1, then truncate. Returns whether it rotated. */
export function rotateIfLarge(file: string, maxBytes: number, keep: number): boolean {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    return false;
  }
  if (size <= maxBytes) return false;
  // Copied aside first and renamed into place, so a reader never sees a half-written `.1`.
  const tmp = `${rotatedName(file, 1)}.tmp`;
  fs.copyFileSync(file, tmp);
  fs.rmSync(rotatedName(file, keep), { force: true });
  for (let i = keep - 1; i >= 1; i--) {
    try {
      fs.renameSync(rotatedName(file, i), rotatedName(file, i + 1));
    } catch {
      // Not there yet.
    }
  }
  fs.renameSync(tmp, rotatedName(file, 1));
  fs.truncateSync(file, 0);
  return true;
}

/** Opens a log for a child's stdout and stderr; the caller closes the fd once the child has it. */
export function openLogForChild(file: string): number {
  return fs.openSync(file, 'a', 0o600);
}

export function appendLogNote(file: string, text: string): void {
  try {
    fs.appendFileSync(file, text.endsWith('\n') ? text : `${text}\n`, { mode: 0o600 });
  } catch {
    // A log note is best effort; the process state carries the facts.
  }
}

const CHUNK = 64 * 1024;

/** The last `n` lines of one file (of its first `endOffset` bytes when given), read backwards in chunks (cheap on large logs). */
export function lastLinesOfFile(file: string, n: number, endOffset?: number): string[] {
  if (n <= 0) return [];
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return [];
  }
  try {
    const size = Math.min(fs.fstatSync(fd).size, endOffset ?? Infinity);
    let pos = size;
    const chunks: Buffer[] = [];
    let newlines = 0;
    while (pos > 0 && newlines <= n) {
      const len = Math.min(CHUNK, pos);
      pos -= len;
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, pos);
      for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) newlines++;
      chunks.unshift(buf);
    }
    // Decoded once, after joining, so a multi-byte character split across chunks stays whole.
    const lines = Buffer.concat(chunks).toString('utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    // A chunk boundary may have cut the first line; drop it unless the file start was reached.
    if (pos > 0) lines.shift();
    return lines.slice(-n);
  } finally {
    fs.closeSync(fd);
  }
}

/** The last `n` lines of a log, reaching into `<file>.1` when the current file was just rotated. */
export function lastLogLines(file: string, n: number, endOffset?: number): string[] {
  const current = lastLinesOfFile(file, n, endOffset);
  if (current.length >= n) return current;
  return [...lastLinesOfFile(rotatedName(file, 1), n - current.length), ...current];
}

/**
 * Follows a log like `tail -F`: polls its size, sends complete new lines, and when the file shrank
 * (rotated) first finishes the rest of `<file>.1` from where it had read.
 */
export class LogFollower {
  /** Bytes of the current file already delivered (or skipped at the start). */
  offset: number;
  private partial = '';
  private timer: NodeJS.Timeout | null = null;
  private readonly decoder = new TextDecoder('utf-8');

  constructor(
    private readonly file: string,
    private readonly onLine: (line: string) => void,
    private readonly pollMs = 250,
  ) {
    try {
      this.offset = fs.statSync(file).size;
    } catch {
      this.offset = 0;
    }
  }

  start(): this {
    this.timer ??= setInterval(() => this.poll(), this.pollMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  poll(): void {
    let size: number;
    try {
      size = fs.statSync(this.file).size;
    } catch {
      return;
    }
    if (size < this.offset) {
      this.readRange(rotatedName(this.file, 1), this.offset, Infinity);
      this.flushPartial();
      this.offset = 0;
    }
    if (size > this.offset) this.offset += this.readRange(this.file, this.offset, size);
  }

  /** Reads [from, to) of a file into lines; returns the bytes read. */
  private readRange(file: string, from: number, to: number): number {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch {
      return 0;
    }
    let total = 0;
    try {
      const end = Math.min(to, fs.fstatSync(fd).size);
      const buf = Buffer.alloc(CHUNK);
      for (let pos = from; pos < end; ) {
        const got = fs.readSync(fd, buf, 0, Math.min(CHUNK, end - pos), pos);
        if (got <= 0) break;
        pos += got;
        total += got;
        this.take(this.decoder.decode(buf.subarray(0, got), { stream: true }));
      }
    } finally {
      fs.closeSync(fd);
    }
    return total;
  }

  private take(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.onLine(line);
  }

  private flushPartial(): void {
    if (this.partial) this.onLine(this.partial);
    this.partial = '';
  }
}
