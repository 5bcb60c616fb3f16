import { UserFacingError } from '../errors';
import { metricKeyForCsvName } from '../metrics/metric-keys';
import type { ArtifactReading } from './artifact-reading';
import { parseCsvRows } from './csv-table';
import { emptyReported, STAT_KEYS, type ArtifactKind, type StatKey } from './imported-run';
import { addReported } from './reported';

function parseCell(raw: string, fileName: string, line: number, column: string): number | undefined {
  const s = raw.trim();
  if (s === '' || s.toUpperCase() === 'N/A') return undefined;
  // GenAI-Perf writes f"{v:,.2f}", so large values carry thousands separators ("5,919.16").
  const v = Number(s.replace(/,/g, ''));
  if (!Number.isFinite(v)) {
    throw new UserFacingError('artifact-invalid', `${fileName}, line ${line}, column ${column}: "${raw}" is not a number. The file may be damaged; export it again.`);
  }
  return v;
}

/**
 * Reads the two-block statistics CSV that GenAI-Perf and AIPerf write (reference §3.3, §3.6): a
 * `Metric,avg,…` block and a `Metric,Value` block, separated by an empty row, then possibly GPU
 * telemetry blocks (skipped: they are per GPU, not per run). Columns and rows are matched by name,
 * never by position, because both changed between versions.
 */
export function readStatsCsv(fileName: string, text: string, kind: ArtifactKind): ArtifactReading {
  const rows = parseCsvRows(text, fileName);
  const rep = emptyReported(2);
  const notes: string[] = [];
  let header: string[] | null = null;
  let blockKind: 'stats' | 'values' | 'skip' = 'skip';
  let sawStats = false;
  let sawValues = false;
  let statHeader: string[] = [];
  for (const { cells, line } of rows) {
    const blank = cells.every((c) => c.trim() === '');
    if (blank) {
      header = null;
      continue;
    }
    if (header === null) {
      header = cells.map((c) => c.trim());
      if (header[0] === 'Metric' && header[1] === 'Value' && header.length === 2) {
        blockKind = 'values';
        sawValues = true;
      } else if (header[0] === 'Metric' && header.includes('avg')) {
        blockKind = 'stats';
        sawStats = true;
        statHeader = header;
        const unknown = header.slice(1).filter((h) => !(STAT_KEYS as readonly string[]).includes(h));
        if (unknown.length) notes.push(`${fileName}: ignored unknown columns ${unknown.join(', ')}.`);
      } else {
        blockKind = 'skip';
        if (!notes.some((n) => n.includes('telemetry'))) notes.push(`${fileName}: GPU telemetry blocks are kept in the file but not imported as run metrics.`);
      }
      continue;
    }
    if (blockKind === 'skip') continue;
    if (cells.length < header.length) {
      throw new UserFacingError('artifact-truncated', `${fileName}, line ${line}: ${cells.length} of ${header.length} columns (${header.join(',')}); the file looks truncated. Export it again.`);
    }
    if (cells.length > header.length) {
      throw new UserFacingError('artifact-invalid', `${fileName}, line ${line}: ${cells.length} columns where the header has ${header.length}. Is this a GenAI-Perf or AIPerf statistics CSV?`);
    }
    const name = cells[0]!.trim();
    const { key, unit } = metricKeyForCsvName(name);
    const stats: Record<string, number | undefined> = {};
    if (blockKind === 'values') stats.avg = parseCell(cells[1]!, fileName, line, 'Value');
    else statHeader.forEach((h, i) => {
      if (i > 0 && (STAT_KEYS as readonly string[]).includes(h)) stats[h as StatKey] = parseCell(cells[i]!, fileName, line, h);
    });
    addReported(rep, key ? name : name.replace(/\s*\([^()]*\)\s*$/, ''), unit, stats, key);
  }
  if (!sawStats && !sawValues) {
    throw new UserFacingError('artifact-invalid', `${fileName} has no "Metric,avg,…" or "Metric,Value" block, so it is not a GenAI-Perf or AIPerf statistics CSV.`);
  }
  if (!sawValues) {
    throw new UserFacingError('artifact-truncated', `${fileName} has per-request statistics but no "Metric,Value" block of run totals; the file looks truncated. Export it again.`);
  }
  const cols = statHeader.slice(1);
  let schema: string;
  if (kind === 'aiperf-csv') {
    schema = cols.includes('sum') ? 'aiperf-csv 2026 (sum column)' : cols.includes('p10') ? 'aiperf-csv v0.1.1+' : 'aiperf-csv pre-release (no p10)';
  } else {
    schema = cols.includes('p1') ? 'genai-perf-csv (p1…p99)' : 'genai-perf-csv older (no p1/p5/p10)';
  }
  return { kind, schema, reported: rep, notes };
}
