import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeltaBatcher } from './delta-batcher';

afterEach(() => {
  vi.useRealTimers();
});

describe('DeltaBatcher', () => {
  it('sends the first chunk at once, then holds the next ones until the interval has passed', () => {
    vi.useFakeTimers();
    const sent: Array<{ text: string; chunks: number; firstAtMs: number }> = [];
    const b = new DeltaBatcher((x) => sent.push(x), 8, () => Date.now());
    b.push('a', 1);
    expect(sent).toEqual([{ text: 'a', chunks: 1, firstAtMs: 1 }]);
    b.push('b', 2);
    b.push('c', 3);
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(8);
    expect(sent[1]).toEqual({ text: 'bc', chunks: 2, firstAtMs: 2 });
    vi.advanceTimersByTime(100);
    b.push('d', 4);
    expect(sent[2]).toEqual({ text: 'd', chunks: 1, firstAtMs: 4 });
  });

  it('flushes what it holds on demand and sends nothing when empty', () => {
    vi.useFakeTimers();
    const sent: string[] = [];
    const b = new DeltaBatcher((x) => sent.push(x.text), 16, () => Date.now());
    b.push('x', 0);
    b.push('y', 0);
    b.flush();
    b.flush();
    expect(sent).toEqual(['x', 'y']);
    vi.advanceTimersByTime(50);
    expect(sent).toEqual(['x', 'y']);
  });
});
