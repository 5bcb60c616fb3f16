import { afterEach, describe, expect, it, vi } from 'vitest';
import { trailingThrottle } from './throttle';

afterEach(() => {
  vi.useRealTimers();
});

describe('trailingThrottle', () => {
  it('turns a burst of pokes into one call at the end of the interval, then again for the next burst', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    const t = trailingThrottle(fn, 250);
    for (let i = 0; i < 100; i++) t.poke();
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(250);
    expect(fn).toHaveBeenCalledTimes(1);
    t.poke();
    vi.advanceTimersByTime(249);
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('calls nothing after cancel', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    const t = trailingThrottle(fn, 100);
    t.poke();
    t.cancel();
    vi.advanceTimersByTime(1000);
    expect(fn).not.toHaveBeenCalled();
  });
});
