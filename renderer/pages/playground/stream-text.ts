import { flushSync } from 'react-dom';

/**
 * Text of the answers still streaming, kept outside the store (CONVENTIONS: high-rate series live
 * outside React). chat.delta events append here; the components showing a stream are told once per
 * animation frame, and commit synchronously in that frame so a token reaches the screen with the
 * next paint rather than a scheduler tick later.
 */
export class StreamText {
  private readonly texts = new Map<string, string>();
  private readonly listeners = new Map<string, Set<() => void>>();
  private readonly dirty = new Set<string>();
  /** Finished while their last text waited for a frame: forgotten after that frame. */
  private readonly dropped = new Set<string>();
  private frame: number | null = null;

  constructor(private readonly marks = perfMarksEnabled()) {}

  get(streamId: string): string {
    return this.texts.get(streamId) ?? '';
  }

  append(streamId: string, text: string): void {
    this.texts.set(streamId, this.get(streamId) + text);
    this.dirty.add(streamId);
    this.frame ??= requestAnimationFrame(() => this.paint());
  }

  /** Forgets a finished stream (its final text is in the conversation by then). */
  drop(streamId: string): void {
    if (this.dirty.has(streamId)) this.dropped.add(streamId);
    else this.texts.delete(streamId);
  }

  subscribe(streamId: string, listener: () => void): () => void {
    let set = this.listeners.get(streamId);
    if (!set) this.listeners.set(streamId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(streamId);
    };
  }

  private paint(): void {
    this.frame = null;
    const ids = [...this.dirty];
    this.dirty.clear();
    flushSync(() => {
      for (const id of ids) for (const l of this.listeners.get(id) ?? []) l();
    });
    if (this.marks) {
      // Read by bench/chat-latency.ts: the text length on screen in this frame.
      for (const id of ids) performance.mark('handoff:chat-frame', { detail: { streamId: id, chars: this.get(id).length } });
    }
    for (const id of this.dropped) this.texts.delete(id);
    this.dropped.clear();
  }
}

/** `?perfmarks` in the page URL turns on performance marks for the latency benchmark. */
function perfMarksEnabled(): boolean {
  return typeof window !== 'undefined' && new URLSearchParams(window.location.search).has('perfmarks');
}
