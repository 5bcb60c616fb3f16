import { createHash, createHmac, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * OpenSSH known_hosts files (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): one key per line,
 * `[@marker] patterns keytype base64key [comment]`. Patterns are a comma list of host names,
 * `[host]:port` for ports other than 22, `*`/`?` wildcards and `!negations`, or one hashed entry
 * `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`. known_hosts never stores hashes of keys, only of
 * names (mscdex/ssh2#869), so a presented key is compared byte for byte with the stored blob.
 */

export interface KnownHostEntry {
  file: string;
  /** 1-based line number in the file. */
  line: number;
  marker: 'cert-authority' | 'revoked' | null;
  patterns: string;
  keyType: string;
  key: Buffer;
}

export type HostKeyStatus = 'match' | 'unknown' | 'changed' | 'revoked';

export interface HostKeyCheck {
  status: HostKeyStatus;
  /** Where the deciding entry is: the matching line, the conflicting line, or the revocation. */
  file?: string;
  line?: number;
  /** For 'changed': the keys on record for this host and key type (to show old vs new fingerprint). */
  knownKeys: { file: string; line: number; keyType: string; fingerprint: string }[];
  /** Key types on record for this host in any file (also for 'unknown': a different type is known). */
  knownTypes: string[];
}

/** `SHA256:` + unpadded base64 of the key blob, as `ssh-keygen -lf` and OpenSSH prompts print it. */
export function fingerprintSha256(key: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
}

/** The key type written inside an SSH public key blob (its first length-prefixed string). */
export function keyTypeOfBlob(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const len = key.readUInt32BE(0);
  if (len <= 0 || len > 64 || 4 + len > key.length) return 'unknown';
  return key.subarray(4, 4 + len).toString('latin1');
}

/** The name OpenSSH looks up: the bare host for port 22, `[host]:port` otherwise. */
export function hostLookupName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (!raw || raw.startsWith('#')) continue;
    const fields = raw.split(/\s+/);
    let marker: KnownHostEntry['marker'] = null;
    if (fields[0]!.startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@cert-authority') marker = 'cert-authority';
      else if (m === '@revoked') marker = 'revoked';
      else continue; // unknown marker: skip the line rather than guess what it means
    }
    const [patterns, keyType, keyB64] = fields;
    if (!patterns || !keyType || !keyB64) continue;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(keyB64)) continue;
    const key = Buffer.from(keyB64, 'base64');
    // A line whose blob does not carry its declared type is corrupt: ignore it instead of letting
    // it turn a good key into a "changed" one.
    if (keyTypeOfBlob(key) !== keyType) continue;
    out.push({ file, line: i + 1, marker, patterns, keyType, key });
  }
  return out;
}

/** OpenSSH wildcard match: `*` any run, `?` one character; case-insensitive like host names. */
export function wildcardMatch(pattern: string, name: string): boolean {
  const re = new RegExp(
    '^' + pattern.toLowerCase().replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$',
  );
  return re.test(name.toLowerCase());
}

function hashedMatch(entry: string, name: string): boolean {
  const parts = entry.split('|'); // ['', '1', salt, hash]
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2]!, 'base64');
  const want = Buffer.from(parts[3]!, 'base64');
  const got = createHmac('sha1', salt).update(name).digest();
  return want.length === got.length && want.equals(got);
}

/** Whether a known_hosts pattern field names this host (with port folded into `name`). */
export function patternsMatch(patterns: string, name: string): boolean {
  if (patterns.startsWith('|')) return hashedMatch(patterns, name);
  let matched = false;
  for (const p of patterns.split(',')) {
    if (!p) continue;
    if (p.startsWith('!')) {
      if (wildcardMatch(p.slice(1), name)) return false; // a negation wins over any positive match
    } else if (wildcardMatch(p, name)) {
      matched = true;
    }
  }
  return matched;
}

async function readEntries(file: string): Promise<KnownHostEntry[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return parseKnownHosts(text, file);
}

/**
 * Checks a presented host key against every given known_hosts file (missing files count as
 * empty). A revoked key is refused outright; an exact match anywhere accepts; a different key of
 * the same type for this host means it changed; anything else is unknown. `@cert-authority`
 * lines are ignored: Handoff does not accept host certificates, so they can neither match nor
 * conflict.
 */
export async function checkHostKey(opts: {
  host: string;
  port: number;
  key: Buffer;
  files: string[];
}): Promise<HostKeyCheck> {
  const name = hostLookupName(opts.host, opts.port);
  const keyType = keyTypeOfBlob(opts.key);
  const entries: KnownHostEntry[] = [];
  for (const f of opts.files) entries.push(...(await readEntries(f)));

  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(opts.key));
  if (revoked) return { status: 'revoked', file: revoked.file, line: revoked.line, knownKeys: [], knownTypes: [] };

  const forHost = entries.filter((e) => e.marker === null && patternsMatch(e.patterns, name));
  const knownTypes = [...new Set(forHost.map((e) => e.keyType))];
  const hit = forHost.find((e) => e.key.equals(opts.key));
  if (hit) return { status: 'match', file: hit.file, line: hit.line, knownKeys: [], knownTypes };

  const sameType = forHost.filter((e) => e.keyType === keyType);
  if (sameType.length > 0) {
    return {
      status: 'changed',
      file: sameType[0]!.file,
      line: sameType[0]!.line,
      knownKeys: sameType.map((e) => ({ file: e.file, line: e.line, keyType: e.keyType, fingerprint: fingerprintSha256(e.key) })),
      knownTypes,
    };
  }
  return { status: 'unknown', knownKeys: [], knownTypes };
}

/** Key types on record for a host (used to prefer them when negotiating, as OpenSSH does). */
export async function knownKeyTypes(host: string, port: number, files: string[]): Promise<string[]> {
  const name = hostLookupName(host, port);
  const types = new Set<string>();
  for (const f of files) {
    for (const e of await readEntries(f)) if (e.marker === null && patternsMatch(e.patterns, name)) types.add(e.keyType);
  }
  return [...types];
}

// Writers inside one process are serialised so two trusts never race on the temp+rename.
let writeChain: Promise<unknown> = Promise.resolve();
function serialised<T>(fn: () => Promise<T>): Promise<T> {
  const next = writeChain.then(fn, fn);
  writeChain = next.catch(() => undefined);
  return next;
}

async function rewrite(file: string, edit: (text: string) => string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  let text = '';
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await fs.writeFile(tmp, edit(text), { mode: 0o600 });
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

/** Appends `[host]:port type key` to Handoff's own known_hosts, atomically (temp file + rename). */
export function addKnownHost(file: string, host: string, port: number, key: Buffer): Promise<void> {
  const line = `${hostLookupName(host, port)} ${keyTypeOfBlob(key)} ${key.toString('base64')}\n`;
  return serialised(() =>
    rewrite(file, (text) => (text === '' || text.endsWith('\n') ? text : text + '\n') + line),
  );
}

/** Removes every plain (unhashed) entry naming exactly this host and port; returns how many went. */
export function removeKnownHost(file: string, host: string, port: number): Promise<number> {
  const name = hostLookupName(host, port);
  let removed = 0;
  return serialised(async () => {
    await rewrite(file, (text) => {
      const keep = text.split('\n').filter((l) => {
        const first = l.trim().split(/\s+/)[0] ?? '';
        if (first.startsWith('|') || first.startsWith('@')) return true;
        const names = first.toLowerCase().split(',');
        if (names.includes(name)) {
          removed++;
          return false;
        }
        return true;
      });
      return keep.join('\n');
    });
    return removed;
  });
}
