import fs from 'node:fs';
import type { RouterTrace } from '../../common/router-trace';

/**
 * Appends trace records as JSONL. Lines are batched and written at most `flushMs` later (one write
 * per batch instead of one per request), and flushed synchronously on close so nothing is lost at
 * shutdown.
 */
export class TraceWriter {
  private readonly fd: number;
  private pending: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing = false;

  constructor(
    readonly path: string,
    private readonly flushMs = 20,
  ) {
    this.fd = fs.openSync(path, 'a');
  }

  write(trace: RouterTrace): void {
    this.pending.push(JSON.stringify(trace) + '\n');
    if (!this.timer && !this.writing) this.timer = setTimeout(() => this.flush(), this.flushMs);
  }

  private flush(): void {
    this.timer = null;
    if (this.pending.length === 0) return;
    const data = this.pending.join('');
    this.pending = [];
    this.writing = true;
    fs.write(this.fd, data, null, 'utf8', () => {
      this.writing = false;
      if (this.pending.length && !this.timer) this.timer = setTimeout(() => this.flush(), this.flushMs);
    });
  }

  /** Writes what is pending and closes the file; waits for an in-flight write first. */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    while (this.writing) await new Promise((r) => setTimeout(r, 2));
    if (this.pending.length) fs.writeSync(this.fd, this.pending.join(''));
    this.pending = [];
    fs.closeSync(this.fd);
  }
}
