/**
 * `npm run bench [-- FILTER]`: runs every `bench*` function exported by the files in bench/ and
 * prints figure, value, goal, the baseline measured in the same run, and value ÷ baseline.
 * Benchmarks are not tests: nothing here fails a build on a slow machine.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchRow } from './bench-row';

const here = path.dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2];

function fmt(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return '-';
  const a = Math.abs(n);
  return a >= 1000 ? n.toFixed(0) : a >= 10 ? n.toFixed(1) : a >= 0.1 ? n.toFixed(2) : n.toPrecision(2);
}

async function main(): Promise<void> {
  const files = fs
    .readdirSync(here)
    .filter((f) => f.endsWith('.ts') && !['run.ts', 'bench-row.ts'].includes(f) && !f.endsWith('.test.ts'))
    .filter((f) => !filter || f.includes(filter))
    .sort();
  const rows: Array<BenchRow & { file: string }> = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(path.join(here, f)).href)) as Record<string, unknown>;
    for (const [name, fn] of Object.entries(mod)) {
      if (!name.startsWith('bench') || typeof fn !== 'function') continue;
      process.stderr.write(`running ${f}:${name} …\n`);
      try {
        const out = (await (fn as () => Promise<BenchRow[]>)()) ?? [];
        for (const r of out) {
          rows.push({ ...r, file: f });
          process.stderr.write(`  ${r.figure}: ${fmt(r.value)} ${r.unit} (goal ${r.goal}; ${r.baselineLabel}: ${fmt(r.baseline)})\n`);
        }
      } catch (err) {
        process.stderr.write(`  failed: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
  }
  const table = [
    ['figure', 'value', 'unit', 'goal', 'baseline', 'baseline is', 'ratio'],
    ...rows.map((r) => [r.figure, fmt(r.value), r.unit, r.goal, fmt(r.baseline), r.baselineLabel, r.baseline ? fmt(r.value / r.baseline) : '-']),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  process.stdout.write('\n' + table.map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n') + '\n');
}

await main();
