import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeltaBatcher } from './delta-batcher';

afterEach(() => {
  vi.useRealTimers();
});

describe('DeltaBatcher', () => {
  it('sends chunks read in one turn together at its end, and spaces later events by the interval', () => {
    vi.useFakeTimers();
    const sent: Array<{ text: string; chunks: number; firstAtMs: number }> = [];
    const b = new DeltaBatcher((x) => sent.push(x), 8, () => Date.now());
    b.push('a', 1);
    b.push('b', 2);
    expect(sent).toEqual([]);
    vi.advanceTimersToNextTimer();
    expect(sent).toEqual([{ text: 'ab', chunks: 2, firstAtMs: 1 }]);
    b.push('c', 3);
    vi.advanceTimersByTime(7);
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sent[1]).toEqual({ text: 'c', chunks: 1, firstAtMs: 3 });
    vi.advanceTimersByTime(100);
    b.push('d', 4);
    vi.advanceTimersToNextTimer();
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
    expect(sent).toEqual(['xy']);
    vi.advanceTimersByTime(50);
    expect(sent).toEqual(['xy']);
  });
});
