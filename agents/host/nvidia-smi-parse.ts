import type { GpuInfo, GpuTopology } from '../../common/host';

/**
 * Parsers for nvidia-smi output. Real output is messy: "[N/A]" / "[Not Supported]" in numeric
 * fields, ANSI underline codes around the topo header, tabs collapsed to spaces by copy-paste,
 * driver error banners instead of data. They never throw; unparseable parts are left out.
 */

/** The exact query the agent runs; the CSV parser expects these columns in this order. */
export const GPU_QUERY_FIELDS = ['index', 'name', 'uuid', 'memory.total', 'memory.used', 'utilization.gpu', 'driver_version'] as const;
export const GPU_QUERY_ARGS = [`--query-gpu=${GPU_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];

// nvidia-smi underlines the topo header with terminal escape codes even when piped.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, 'g');

/** A number, or null for nvidia-smi's placeholders ([N/A], [Not Supported], [Unknown Error]…) and garbage. */
export function parseSmiNumber(text: string | undefined): number | null {
  if (text === undefined) return null;
  const t = text.trim().replace(/\s*(MiB|%|W|C)$/i, '');
  if (t.length === 0 || t.startsWith('[') || /^n\/a$/i.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

function cleanText(text: string | undefined): string {
  const t = (text ?? '').trim();
  return t.startsWith('[') && t.endsWith(']') ? '' : t;
}

/** `nvidia-smi --query-gpu=… --format=csv,noheader,nounits`; lines that are not GPU rows (error banners) are skipped. */
export function parseGpuQueryCsv(text: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const raw of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const line = raw.replace(ANSI, '').trim();
    if (!line) continue;
    const f = line.split(',');
    const n = f.length;
    if (n < GPU_QUERY_FIELDS.length) continue;
    const index = parseSmiNumber(f[0]);
    if (index === null || !Number.isInteger(index) || index < 0) continue;
    // A name with a comma would add fields: everything between index and the five fixed right-hand fields is the name.
    gpus.push({
      index,
      name: cleanText(f.slice(1, n - 5).join(',')) || 'unknown GPU',
      uuid: cleanText(f[n - 5]),
      memoryTotalMiB: parseSmiNumber(f[n - 4]) ?? 0,
      memoryUsedMiB: parseSmiNumber(f[n - 3]) ?? 0,
      utilizationPct: parseSmiNumber(f[n - 2]),
      driverVersion: cleanText(f[n - 1]),
    });
  }
  return gpus.sort((a, b) => a.index - b.index);
}

export interface SmiHeader {
  smiVersion: string | null;
  driverVersion: string | null;
  cudaVersion: string | null;
}

/** The banner of bare `nvidia-smi`: "NVIDIA-SMI 550.54.15   Driver Version: 550.54.15   CUDA Version: 12.4". */
export function parseNvidiaSmiHeader(text: string): SmiHeader {
  const t = text.replace(ANSI, '');
  const pick = (re: RegExp) => {
    const m = re.exec(t);
    return m?.[1] && !/^n\/a$/i.test(m[1]) ? m[1] : null;
  };
  return {
    smiVersion: pick(/NVIDIA-SMI\s+(\d[\w.-]*)/),
    driverVersion: pick(/Driver Version:\s*(\d[\w.-]*|N\/A)/i),
    cudaVersion: pick(/CUDA Version:\s*(\d[\w.]*|N\/A)/i),
  };
}

const DEVICE_LABEL = /^(GPU\d+|NIC\d+|mlx\d*_\d+|CPU\d*|NUMA\d*)$/;

function splitCells(line: string, header: boolean): string[] {
  if (line.includes('\t')) return line.split('\t').map((c) => c.trim()).filter((c, i) => i === 0 || c.length > 0);
  // Tabs lost (copy-paste): header names contain single spaces ("CPU Affinity"), cells do not.
  const trimmed = line.trim();
  const cells = header ? trimmed.split(/\s{2,}/) : trimmed.split(/\s+/);
  return header ? ['', ...cells] : cells;
}

/** The column names of the matrix header, or null when the line is not one. */
function headerColumns(line: string): string[] | null {
  const cells = splitCells(line, true);
  // Normal form: the header starts with an empty corner cell (a tab or spaces) before GPU0.
  if (/^\s/.test(line) && cells[0] === '' && DEVICE_LABEL.test(cells[1] ?? '')) return cells.slice(1);
  // Leading whitespace lost: a header row names two devices first, a data row has a link type second.
  const bare = line.trim().split(/\t+|\s{2,}/);
  if (bare.length > 1 && DEVICE_LABEL.test(bare[0]!) && DEVICE_LABEL.test(bare[1]!)) return bare;
  return null;
}

/**
 * `nvidia-smi topo -m`: the link matrix between GPUs and NICs (X, NV#, PIX, PXB, PHB, NODE, SYS),
 * the CPU and NUMA affinity columns, and the "NIC Legend" mapping NIC0 → mlx5_0.
 * Returns null when there is no matrix in the text.
 */
export function parseTopoMatrix(text: string): GpuTopology | null {
  const clean = text.replace(ANSI, '').replace(/^\uFEFF/, '');
  const lines = clean.split(/\r?\n/);
  let headerAt = -1;
  let columns: string[] = [];
  for (let i = 0; i < lines.length && headerAt < 0; i++) {
    const cols = headerColumns(lines[i]!);
    if (cols) {
      headerAt = i;
      columns = cols;
    }
  }
  if (headerAt < 0) return null;

  const rows = new Map<string, string[]>();
  for (let i = headerAt + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '' || /^\s*Legend/i.test(line)) break;
    const cells = splitCells(line, false);
    const label = cells[0];
    if (label && columns.includes(label)) rows.set(label, cells.slice(1));
  }
  let n = 0;
  while (n < columns.length && rows.has(columns[n]!)) n++;
  if (n === 0) return null;
  const labels = columns.slice(0, n);
  const extraColumns = columns.slice(n);

  const matrix: string[][] = [];
  const cpuAffinity: Record<string, string> = {};
  const numaAffinity: Record<string, string> = {};
  for (const label of labels) {
    const cells = rows.get(label)!;
    matrix.push(labels.map((_, j) => cells[j] ?? ''));
    extraColumns.forEach((col, j) => {
      const value = cells[n + j];
      if (value === undefined || value === '') return;
      if (/^CPU Affinity$/i.test(col)) cpuAffinity[label] = value;
      else if (/^NUMA Affinity$/i.test(col)) numaAffinity[label] = value;
    });
  }

  const nics: Record<string, string> = {};
  for (const line of lines) {
    const m = /^\s*(NIC\d+)\s*:\s*(\S+)\s*$/.exec(line);
    if (m) nics[m[1]!] = m[2]!;
  }
  // raw is shown to people as is: without the terminal escape codes.
  return { labels, matrix, cpuAffinity, numaAffinity, nics, raw: clean };
}
