/**
 * Coalesces streamed text into few events: the first chunk after a quiet spell goes out at once
 * (no added latency for the first token), later chunks are held until `intervalMs` after the
 * previous send. At most one event per interval per stream, whatever the token rate, so a fast
 * engine cannot flood the IPC/WebSocket channel, while the renderer paints once per frame anyway.
 */
export class DeltaBatcher {
  private text = '';
  private chunks = 0;
  private firstAtMs = 0;
  private lastSentAtMs = -Infinity;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly send: (batch: { text: string; chunks: number; firstAtMs: number }) => void,
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {}

  push(text: string, atMs: number): void {
    if (this.chunks === 0) this.firstAtMs = atMs;
    this.text += text;
    this.chunks++;
    if (this.timer) return;
    const wait = this.lastSentAtMs + this.intervalMs - this.now();
    if (wait <= 0) this.flush();
    else this.timer = setTimeout(() => this.flush(), wait);
  }

  /** Sends what is held now (before the final event of a stream). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.chunks === 0) return;
    const batch = { text: this.text, chunks: this.chunks, firstAtMs: this.firstAtMs };
    this.text = '';
    this.chunks = 0;
    this.lastSentAtMs = this.now();
    this.send(batch);
  }
}
