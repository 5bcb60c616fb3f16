import { z } from 'zod';

/**
 * Linux CPU lists as `taskset -c` and /proc/<pid>/status `Cpus_allowed_list` write them: `0`,
 * `0-3`, `0,2,8-11`. Used to keep a benchmark client off the cores the engine computes on.
 */

const MAX_CPU = 8191;

/** The CPU numbers of a list, ascending and unique; throws with the reason for a malformed one. */
export function parseCpuList(text: string): number[] {
  const out = new Set<number>();
  const t = text.trim();
  if (!t) throw new Error('the CPU list is empty');
  for (const part of t.split(',')) {
    const m = /^\s*(\d+)(?:\s*-\s*(\d+))?\s*$/.exec(part);
    if (!m) throw new Error(`"${part.trim()}" is not a CPU number or range (write e.g. 0-3,8)`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new Error(`the range ${a}-${b} runs backwards`);
    if (b > MAX_CPU) throw new Error(`CPU ${b} is beyond any machine's CPU numbers`);
    for (let c = a; c <= b; c++) out.add(c);
  }
  return [...out].sort((x, y) => x - y);
}

/** The shortest list for a set of CPUs: `0-3,8`. */
export function formatCpuList(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((x, y) => x - y);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j === i ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** A typed list in its shortest form, or the reason it is not one (for form fields and flags). */
export function normalizeCpuList(text: string): { ok: true; cpus: string } | { ok: false; reason: string } {
  try {
    return { ok: true, cpus: formatCpuList(parseCpuList(text)) };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}

export const CpuList = z
  .string()
  .max(1000)
  .transform((v, ctx) => {
    const r = normalizeCpuList(v);
    if (r.ok) return r.cpus;
    ctx.addIssue({ code: 'custom', message: r.reason });
    return z.NEVER;
  });
