import fs from 'node:fs/promises';
import path from 'node:path';
import { detectArtifact, importArtifacts, redactText, type ArtifactFile, type ImportedRun } from '../../../common/artifacts';
import { UserFacingError } from '../../../common/errors';
import type { ImportInfo, MetricsView } from '../../../common/run-view';

/**
 * Turns `handoff import PATH…` (or dropped files) into import sources, each one run: files named
 * together form one run; in a directory, the results under the tools' own names (profile_export.json,
 * *_genai_perf.json/.csv, profile_export.jsonl, profile_export_aiperf.json/.csv) and the companion
 * files beside them are one run, a result under another name is a run of its own, and every
 * subdirectory that holds results is searched the same way (so a whole artifact tree imports in
 * one command).
 */

export interface ImportSource {
  /** Shown in reports: the directory, or the files given. */
  sources: string[];
  name: string;
  files: ArtifactFile[];
  /** Files of a directory that were not read (binary, too large). */
  skipped: { name: string; reason: string }[];
}

/** Results and companion documents are read; anything else in a directory is listed, not read. */
const READ_IN_DIRS = /\.(json|jsonl|csv|txt|log|ya?ml|md)$/i;
const MAX_DIR_FILE_BYTES = 256 * 1024 * 1024;
/** Node strings stop near 512 MiB; a results file that large is not a benchmark export. */
const MAX_FILE_BYTES = 500 * 1024 * 1024;

async function readText(file: string, shown: string): Promise<string> {
  const st = await fs.stat(file);
  if (st.size > MAX_FILE_BYTES) throw new UserFacingError('import-too-large', `${shown} is ${Math.round(st.size / 2 ** 20)} MiB, larger than any benchmark result Handoff reads (500 MiB). Check that it is the right file.`);
  const buf = await fs.readFile(file);
  // A NUL byte in the first 8 KiB: a binary file, which no importer reads.
  if (buf.subarray(0, 8192).includes(0)) throw new UserFacingError('artifact-unknown', `${shown} is a binary file, not a benchmark result. Give a GenAI-Perf, AIPerf or vllm bench serve result file or directory.`);
  return buf.toString('utf8');
}

async function statOrThrow(p: string) {
  try {
    return await fs.stat(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserFacingError('import-not-found', `Cannot read ${p}: ${code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}. Give the path of a result file or of a run directory.`);
  }
}

/** The names the tools give their results; a renamed result in a run directory is a run of its own. */
const CANONICAL = /^(profile_export\.jsonl?|profile_export_aiperf\.(json|csv)|.*_genai_perf\.(json|csv))$/i;

async function dirSources(dir: string, shown: string): Promise<{ sources: ImportSource[]; subdirs: string[] }> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const results: ArtifactFile[] = [];
  const companions: ArtifactFile[] = [];
  const skipped: ImportSource['skipped'] = [];
  const subdirs: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const abs = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!e.name.startsWith('.')) subdirs.push(abs);
      continue;
    }
    if (!e.isFile() || e.name.startsWith('.')) continue;
    if (!READ_IN_DIRS.test(e.name)) {
      skipped.push({ name: e.name, reason: 'not a JSON, JSONL, CSV or text file' });
      continue;
    }
    const st = await fs.stat(abs);
    if (st.size > MAX_DIR_FILE_BYTES) {
      skipped.push({ name: e.name, reason: `${Math.round(st.size / 2 ** 20)} MiB, too large to keep` });
      continue;
    }
    const buf = await fs.readFile(abs);
    if (buf.subarray(0, 8192).includes(0)) {
      skipped.push({ name: e.name, reason: 'binary' });
      continue;
    }
    const f = { name: e.name, text: buf.toString('utf8') };
    if (detectArtifact(f).kind) results.push(f);
    else companions.push(f);
  }
  if (!results.length) return { sources: [], subdirs };
  // The files a tool wrote for one run keep its names; results under other names (examples, copies)
  // sitting beside them are separate runs, never merged into that run.
  const canonical = results.filter((f) => CANONICAL.test(f.name));
  const groups = canonical.length ? [canonical, ...results.filter((f) => !CANONICAL.test(f.name)).map((f) => [f])] : results.length === 1 ? [results] : results.map((f) => [f]);
  const base = path.basename(path.resolve(dir));
  const sources = groups.map((files, i) => ({
    sources: i === 0 && canonical.length ? [shown] : files.map((f) => path.join(shown, f.name)),
    name: i === 0 && (canonical.length || groups.length === 1) ? base : files[0]!.name.replace(/\.(jsonl?|csv)$/i, ''),
    files: i === 0 ? [...files, ...companions] : files,
    skipped: i === 0 ? skipped : [],
  }));
  // AIPerf ≥ 0.13 repeats each phase's results under phases/<phase>/ of the run directory: one run, not three.
  return { sources, subdirs: subdirs.filter((d) => path.basename(d) !== 'phases') };
}

/** Reads the given paths into import sources. Throws when a path is missing or holds no results. */
export async function collectImportSources(paths: readonly string[], name?: string): Promise<ImportSource[]> {
  const loose: ArtifactFile[] = [];
  const looseShown: string[] = [];
  const sources: ImportSource[] = [];
  for (const p of paths) {
    const st = await statOrThrow(p);
    if (st.isDirectory()) {
      const found: ImportSource[] = [];
      const queue = [p];
      while (queue.length) {
        const dir = queue.shift()!;
        const { sources: here, subdirs } = await dirSources(dir, dir === p ? p : path.join(p, path.relative(p, dir)));
        found.push(...here);
        queue.push(...subdirs);
      }
      if (!found.length) throw new UserFacingError('artifact-unknown', `${p} holds no benchmark results (looked for GenAI-Perf, AIPerf and vllm bench serve files in it and its subdirectories).`);
      sources.push(...found);
    } else {
      loose.push({ name: path.basename(p), text: await readText(p, p) });
      looseShown.push(p);
    }
  }
  if (loose.length) {
    const names = new Map<string, number>();
    const files = loose.map((f) => {
      // Two files of one name (from different directories) keep both, numbered.
      const n = (names.get(f.name) ?? 0) + 1;
      names.set(f.name, n);
      return n === 1 ? f : { name: `${n}-${f.name}`, text: f.text };
    });
    sources.unshift({ sources: looseShown, name: path.basename(looseShown[0]!).replace(/\.(jsonl?|csv)$/i, ''), files, skipped: [] });
  }
  if (name !== undefined) for (const [i, s] of sources.entries()) s.name = sources.length > 1 ? `${name} ${i + 1}` : name;
  return sources;
}

/** Dropped files (the UI): together one run. */
export function sourceFromFiles(files: readonly ArtifactFile[], name?: string): ImportSource {
  const first = files[0]?.name ?? 'import';
  return { sources: files.map((f) => f.name), name: name ?? path.basename(first).replace(/\.(jsonl?|csv)$/i, ''), files: [...files], skipped: [] };
}

/** A tool's reported aggregates in the loose metrics shape. */
export function reportedAsMetrics(r: ImportedRun['reported']): MetricsView | null {
  if (!r) return null;
  const distributions: MetricsView['distributions'] = {};
  for (const [k, stats] of Object.entries(r.distributions)) {
    if (!stats) continue;
    const clean: Record<string, number> = {};
    for (const [s, v] of Object.entries(stats)) if (typeof v === 'number' && Number.isFinite(v)) clean[s] = v;
    distributions[k] = clean;
  }
  const scalars: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.scalars)) if (typeof v === 'number' && Number.isFinite(v)) scalars[k] = v;
  return { scalars, distributions };
}

export interface PreparedImport {
  source: ImportSource;
  imported: ImportedRun;
  /** Files kept under artifacts/: results and companions, redacted. */
  kept: { name: string; text: string; kind: string | null }[];
  info: ImportInfo;
}

/** Imports one source in memory (importArtifacts: detection, recompute, redaction). Throws on bad files. */
export function prepareImport(source: ImportSource): PreparedImport {
  const imported = importArtifacts(source.files);
  const kept: PreparedImport['kept'] = imported.files.map((f) => ({ name: f.name, text: f.text, kind: f.kind }));
  const ignoredNames = new Set(imported.ignored.map((i) => i.name));
  // Companions (inputs.json, logs) are kept too, but only after redaction: they can hold request headers.
  for (const f of source.files) if (ignoredNames.has(f.name)) kept.push({ name: f.name, text: redactText(f.text), kind: null });
  const info: ImportInfo = {
    sources: source.sources,
    tool: imported.tool,
    toolVersion: imported.toolVersion,
    kinds: imported.kinds,
    schemas: imported.schemas,
    recordCount: imported.requests?.length ?? 0,
    comparedCount: imported.comparedCount,
    disagreements: imported.disagreements.map((d) => ({ ...d, relDiff: Number.isFinite(d.relDiff) ? d.relDiff : null })),
    ignored: [
      ...imported.ignored.map((i) => ({ name: i.name, reason: i.reason, kept: true })),
      ...source.skipped.map((s) => ({ name: s.name, reason: s.reason, kept: false })),
    ],
    reported: reportedAsMetrics(imported.reported),
    notes: imported.notes,
  };
  return { source, imported, kept, info };
}
