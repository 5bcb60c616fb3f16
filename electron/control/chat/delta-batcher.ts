/**
 * Coalesces streamed text into few events. Chunks read in the same turn of the event loop go out
 * together at the end of that turn (setImmediate), so a burst of tokens is one event and a lone
 * token waits for nothing. Events of one stream are at least `intervalMs` apart, so a very fast
 * engine cannot flood the IPC/WebSocket channel; the renderer then paints once per frame.
 */
export class DeltaBatcher {
  private text = '';
  private chunks = 0;
  private firstAtMs = 0;
  private lastSentAtMs = -Infinity;
  private pending: { cancel(): void } | null = null;

  constructor(
    private readonly send: (batch: { text: string; chunks: number; firstAtMs: number }) => void,
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {}

  push(text: string, atMs: number): void {
    if (this.chunks === 0) this.firstAtMs = atMs;
    this.text += text;
    this.chunks++;
    if (this.pending) return;
    const wait = this.lastSentAtMs + this.intervalMs - this.now();
    if (wait <= 0) {
      const h = setImmediate(() => this.flush());
      this.pending = { cancel: () => clearImmediate(h) };
    } else {
      const h = setTimeout(() => this.flush(), wait);
      this.pending = { cancel: () => clearTimeout(h) };
    }
  }

  /** Sends what is held now (before the final event of a stream). */
  flush(): void {
    this.pending?.cancel();
    this.pending = null;
    if (this.chunks === 0) return;
    const batch = { text: this.text, chunks: this.chunks, firstAtMs: this.firstAtMs };
    this.text = '';
    this.chunks = 0;
    this.lastSentAtMs = this.now();
    this.send(batch);
  }
}
