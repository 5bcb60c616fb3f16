import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { describeZodError, UserFacingError } from '../../../common/errors';
import { BUNDLE_ROOT, BundleManifest } from './bundle-manifest';

/**
 * The report bundle: a .tar.gz holding `handoff-bundle/` with manifest.json, report.html,
 * deployment.yaml (when the runs share one deployment) and `runs/<id>/` (run.json, requests,
 * samples, traces, summary, import report and raw artifacts, every file redacted). Files are
 * staged in a private temporary folder, archived with node-tar (portable headers: no owner,
 * no local user names), and the archive is renamed into place so a half-written bundle never
 * has the final name.
 */

export interface BundleEntry {
  /** Path inside `handoff-bundle/`, with forward slashes. */
  path: string;
  data: string | Buffer;
}

function safeRel(rel: string): string {
  const clean = path.posix.normalize(rel.replace(/\\/g, '/'));
  if (clean.startsWith('/') || clean === '..' || clean.startsWith('../') || clean === '.' || clean === '') throw new UserFacingError('bundle-path', `"${rel}" cannot be a path inside a bundle.`);
  return clean;
}

export function sha256(data: string | Buffer): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** Writes the archive to `outFile` atomically; returns its size in bytes. */
export async function writeBundle(outFile: string, entries: readonly BundleEntry[]): Promise<number> {
  const stage = await fs.mkdtemp(path.join(os.tmpdir(), 'handoff-bundle-'));
  const tmpOut = `${outFile}.${process.pid}.${crypto.randomBytes(3).toString('hex')}.tmp`;
  try {
    const root = path.join(stage, BUNDLE_ROOT);
    await fs.mkdir(root, { mode: 0o700 });
    for (const e of entries) {
      const abs = path.join(root, ...safeRel(e.path).split('/'));
      await fs.mkdir(path.dirname(abs), { recursive: true, mode: 0o700 });
      await fs.writeFile(abs, e.data, { mode: 0o600 });
    }
    await fs.mkdir(path.dirname(outFile), { recursive: true });
    await tar.create({ gzip: { level: 6 }, file: tmpOut, cwd: stage, portable: true, noMtime: false }, [BUNDLE_ROOT]);
    await fs.rename(tmpOut, outFile);
    return (await fs.stat(outFile)).size;
  } catch (err) {
    await fs.rm(tmpOut, { force: true });
    throw err;
  } finally {
    await fs.rm(stage, { recursive: true, force: true });
  }
}

const MANIFEST_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Reads every regular file of a bundle into memory (tests and re-runs; bundles are what Handoff
 * wrote). Paths are returned relative to `handoff-bundle/`.
 */
export async function readBundleFiles(file: string, want?: (rel: string) => boolean): Promise<Map<string, Buffer>> {
  await fs.access(file).catch(() => {
    throw new UserFacingError('bundle-missing', `There is no file ${file}. Give the path of a .tar.gz bundle made by "handoff report --format bundle".`);
  });
  const out = new Map<string, Buffer>();
  try {
    await tar.list({
      file,
      onReadEntry: (entry) => {
        const rel = entry.path.replace(/^\.\//, '');
        if (entry.type !== 'File' || !rel.startsWith(`${BUNDLE_ROOT}/`)) {
          entry.resume();
          return;
        }
        const inner = rel.slice(BUNDLE_ROOT.length + 1);
        if (want && !want(inner)) {
          entry.resume();
          return;
        }
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => out.set(inner, Buffer.concat(chunks)));
      },
    });
  } catch (err) {
    throw new UserFacingError('bundle-invalid', `${file} is not a readable .tar.gz bundle (${err instanceof Error ? err.message : String(err)}). Export it again with "handoff report RUN --format bundle".`);
  }
  return out;
}

/** The manifest of a bundle file, of an unpacked bundle folder, or a manifest.json itself. */
export async function readBundleManifest(p: string): Promise<BundleManifest> {
  const st = await fs.stat(p).catch(() => null);
  if (!st) throw new UserFacingError('bundle-missing', `There is no file ${p}. Give the path of a .tar.gz bundle made by "handoff report --format bundle".`);
  let text: string;
  let where = p;
  if (st.isDirectory()) {
    const candidates = [path.join(p, 'manifest.json'), path.join(p, BUNDLE_ROOT, 'manifest.json')];
    const found = (await Promise.all(candidates.map(async (c) => ((await fs.stat(c).catch(() => null))?.isFile() ? c : null)))).find(Boolean);
    if (!found) throw new UserFacingError('bundle-invalid', `${p} is a folder without manifest.json; give the .tar.gz bundle or the folder it was unpacked into.`);
    where = found;
    text = await fs.readFile(found, 'utf8');
  } else if (p.endsWith('.json')) {
    text = await fs.readFile(p, 'utf8');
  } else {
    const files = await readBundleFiles(p, (rel) => rel === 'manifest.json');
    const m = files.get('manifest.json');
    if (!m) throw new UserFacingError('bundle-invalid', `${p} has no ${BUNDLE_ROOT}/manifest.json: it is not a Handoff report bundle.`);
    if (m.length > MANIFEST_MAX_BYTES) throw new UserFacingError('bundle-invalid', `${p}: manifest.json is larger than 16 MiB; it is not one Handoff wrote.`);
    where = `${p}:${BUNDLE_ROOT}/manifest.json`;
    text = m.toString('utf8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UserFacingError('bundle-invalid', `${where} is not valid JSON (the bundle may be damaged). Export it again.`);
  }
  const r = BundleManifest.safeParse(value);
  if (!r.success) throw new UserFacingError('bundle-invalid', `${describeZodError(where, r.error)}. It was not written by this version of Handoff, or it was edited.`);
  return r.data;
}
