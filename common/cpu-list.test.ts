import { describe, expect, it } from 'vitest';
import { CpuList, formatCpuList, parseCpuList } from './cpu-list';

describe('CPU lists', () => {
  it('reads single CPUs, ranges and mixtures, ascending and unique', () => {
    expect(parseCpuList('0')).toEqual([0]);
    expect(parseCpuList('8-11,0, 2,3')).toEqual([0, 2, 3, 8, 9, 10, 11]);
    expect(parseCpuList('1-1,1')).toEqual([1]);
  });

  it('writes the shortest list back, as taskset and /proc print it', () => {
    expect(formatCpuList([3, 0, 1, 2, 8, 10, 11])).toBe('0-3,8,10-11');
    expect(CpuList.parse(' 2,0-1 ')).toBe('0-2');
  });

  it('refuses malformed lists with the reason', () => {
    expect(() => parseCpuList('')).toThrow(/empty/);
    expect(() => parseCpuList('0-')).toThrow(/"0-" is not a CPU number or range/);
    expect(() => parseCpuList('3-1')).toThrow(/backwards/);
    expect(() => parseCpuList('99999')).toThrow(/beyond/);
    expect(CpuList.safeParse('a,b').success).toBe(false);
  });
});
