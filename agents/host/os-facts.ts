import fs from 'node:fs/promises';

/** /etc/os-release: KEY=value lines, values optionally quoted with shell-style escapes. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2]!.trim();
    const q = v[0];
    if ((q === '"' || q === "'") && v.endsWith(q) && v.length >= 2) {
      v = v.slice(1, -1);
      if (q === '"') v = v.replace(/\\(["\\$`])/g, '$1');
    }
    out[m[1]!] = v;
  }
  return out;
}

export async function readOsRelease(): Promise<Record<string, string>> {
  for (const p of ['/etc/os-release', '/usr/lib/os-release']) {
    try {
      return parseOsRelease(await fs.readFile(p, 'utf8'));
    } catch {
      // Try the next location.
    }
  }
  return {};
}

/** The glibc the agent's own Node runs against; null on musl or when unknown. */
export function glibcVersion(): string | null {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: unknown } } | undefined;
  const v = report?.header?.glibcVersionRuntime;
  return typeof v === 'string' && v.length > 0 ? v : null;
}

/** Space a non-root user can still write under `dir`. */
export async function freeBytesUnder(dir: string): Promise<number | null> {
  try {
    const st = await fs.statfs(dir);
    return st.bavail * st.bsize;
  } catch {
    return null;
  }
}
