/**
 * Reading what the user drops (or picks) with the File API, for runs.import: each directory's
 * files become one import (a run directory), loose files together another. Directories are walked
 * with webkitGetAsEntry, the one way a browser page can read a dropped folder.
 */

export interface PickedFile {
  /** Path inside what was dropped, for messages: `run1/profile_export.jsonl`. */
  path: string;
  file: File;
}

export interface ImportGroup {
  /** The directory's name, or null for loose files. */
  name: string | null;
  files: Array<{ name: string; text: string }>;
  bytes: number;
}

/**
 * What one drop may carry in total. Browser mode sends it over the WebSocket in one message, and
 * the importer holds every text in memory; bigger results import from disk with `handoff import`.
 */
export const DROP_MAX_BYTES = 64 * 1024 * 1024;

/** Files no benchmark tool writes as results; reading them would only slow the drop down. */
const SKIP = /\.(png|jpe?g|gif|svg|html?|pdf|parquet|zip|gz|tar|bin|pt|safetensors)$/i;

function readEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

function entryFile(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function walk(entry: FileSystemEntry, prefix: string, out: PickedFile[]): Promise<void> {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) {
    out.push({ path, file: await entryFile(entry as FileSystemFileEntry) });
    return;
  }
  if (!entry.isDirectory) return;
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries hands out a directory in batches (100 in Chromium) until it returns none.
  for (;;) {
    const batch = await readEntries(reader);
    if (batch.length === 0) break;
    for (const e of batch) await walk(e, path, out);
  }
}

/** Files of a drop, directories walked; falls back to the flat file list where entries are unavailable. */
export async function filesFromDataTransfer(dt: DataTransfer): Promise<PickedFile[]> {
  const entries: FileSystemEntry[] = [];
  for (const item of Array.from(dt.items)) {
    if (item.kind !== 'file') continue;
    const e = typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null;
    if (e) entries.push(e);
  }
  if (entries.length === 0) return Array.from(dt.files).map((file) => ({ path: file.webkitRelativePath || file.name, file }));
  const out: PickedFile[] = [];
  for (const e of entries) await walk(e, '', out);
  return out;
}

/** From an <input type="file"> (with or without webkitdirectory). */
export function filesFromInput(list: FileList): PickedFile[] {
  return Array.from(list).map((file) => ({ path: file.webkitRelativePath || file.name, file }));
}

function dirOf(path: string): string | null {
  const i = path.lastIndexOf('/');
  return i < 0 ? null : path.slice(0, i);
}

export interface GroupPlan {
  groups: Array<{ name: string | null; files: PickedFile[]; bytes: number }>;
  skipped: string[];
  bytes: number;
}

/** Groups picked files by directory and leaves out what is not a result; no file is read yet. */
export function planGroups(picked: readonly PickedFile[]): GroupPlan {
  const byDir = new Map<string, { name: string | null; files: PickedFile[]; bytes: number }>();
  const skipped: string[] = [];
  let bytes = 0;
  for (const p of picked) {
    const base = p.path.split('/').pop() ?? p.path;
    if (SKIP.test(base) || base.startsWith('.')) {
      skipped.push(p.path);
      continue;
    }
    const dir = dirOf(p.path);
    const key = dir ?? '';
    let g = byDir.get(key);
    if (!g) byDir.set(key, (g = { name: dir ? (dir.split('/').pop() ?? dir) : null, files: [], bytes: 0 }));
    g.files.push(p);
    g.bytes += p.file.size;
    bytes += p.file.size;
  }
  return { groups: [...byDir.values()], skipped, bytes };
}

/** Reads each group's texts; names are base names (the importer recognises files by content, then name). */
export async function readGroup(g: GroupPlan['groups'][number]): Promise<ImportGroup> {
  const files = await Promise.all(g.files.map(async (p) => ({ name: p.path.split('/').pop() ?? p.path, text: await p.file.text() })));
  return { name: g.name, files, bytes: g.bytes };
}
