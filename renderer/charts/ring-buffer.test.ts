import { describe, expect, it } from 'vitest';
import { RingSeries } from './ring-buffer';

describe('RingSeries', () => {
  it('keeps the newest points once full, oldest first', () => {
    const r = new RingSeries(3);
    for (let i = 1; i <= 5; i++) r.push(i * 1000, i);
    expect(r.length).toBe(3);
    const { t, v } = r.since(0);
    expect(Array.from(t)).toEqual([3000, 4000, 5000]);
    expect(Array.from(v)).toEqual([3, 4, 5]);
    expect(r.lastTime()).toBe(5000);
    expect(r.lastValue()).toBe(5);
  });

  it('returns only the window asked for, found by time', () => {
    const r = new RingSeries(100);
    for (let i = 0; i < 250; i++) r.push(i, i * 2);
    const { t, v } = r.since(245);
    expect(Array.from(t)).toEqual([245, 246, 247, 248, 249]);
    expect(Array.from(v)).toEqual([490, 492, 494, 496, 498]);
    expect(r.since(1000).t.length).toBe(0);
    expect(r.since(-1).t.length).toBe(100);
  });

  it('is empty after clear and refuses a capacity that is not a positive integer', () => {
    const r = new RingSeries(2);
    r.push(1, 1);
    r.clear();
    expect(r.length).toBe(0);
    expect(r.lastValue()).toBeNull();
    expect(() => new RingSeries(0)).toThrow(/positive integer/);
    expect(() => new RingSeries(1.5)).toThrow(/positive integer/);
  });
});
