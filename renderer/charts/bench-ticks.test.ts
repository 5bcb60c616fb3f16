import { describe, expect, it } from 'vitest';
import { unitTicks } from './bench-ticks';

describe('axis ticks', () => {
  it('shows milliseconds below 2 s and seconds from there, never both on one axis', () => {
    expect(unitTicks(281, 1900, 'ms')(831)).toBe('831 ms');
    const s = unitTicks(281, 2300, 'ms');
    expect(s(281)).toBe('0.28 s');
    expect(s(1400)).toBe('1.40 s');
  });

  it('gives a narrow range enough decimals to tell ticks apart', () => {
    const t = unitTicks(5.86, 5.866, 'µs');
    expect(t(5.8615)).not.toBe(t(5.8645));
    expect(t(5.862)).toBe('5.8620 µs');
    expect(unitTicks(0, 100, '%')(50)).toBe('50 %');
    expect(unitTicks(3, 3, 'ms')(3)).toBe('3.00 ms');
  });
});
