import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, describe, expect, it } from 'vitest';
import {
  addKnownHost,
  checkHostKey,
  fingerprintSha256,
  keyTypeOfBlob,
  knownKeyTypes,
  parseKnownHosts,
  patternsMatch,
  removeKnownHost,
} from './known-hosts';

const dir = mkdtempSync(path.join(tmpdir(), 'known-hosts-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function newKey(type: 'ed25519' | 'ecdsa' = 'ed25519'): { line: string; blob: Buffer; type: string } {
  const kp = type === 'ecdsa' ? ssh2.utils.generateKeyPairSync('ecdsa', { bits: 256 }) : ssh2.utils.generateKeyPairSync('ed25519');
  const [t, b64] = kp.public.trim().split(/\s+/);
  return { line: `${t} ${b64}`, blob: Buffer.from(b64!, 'base64'), type: t! };
}

let n = 0;
function file(text: string): string {
  const f = path.join(dir, `kh-${n++}`);
  writeFileSync(f, text);
  return f;
}

describe('fingerprintSha256', () => {
  it('prints the same fingerprint as ssh-keygen -lf', () => {
    const k = newKey();
    const f = file(`${k.line} test\n`);
    const out = execFileSync('ssh-keygen', ['-E', 'sha256', '-lf', f], { encoding: 'utf8' });
    expect(out.split(/\s+/)[1]).toBe(fingerprintSha256(k.blob));
    expect(fingerprintSha256(k.blob)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('reads the key type from the blob', () => {
    expect(keyTypeOfBlob(newKey().blob)).toBe('ssh-ed25519');
    expect(keyTypeOfBlob(newKey('ecdsa').blob)).toBe('ecdsa-sha2-nistp256');
    expect(keyTypeOfBlob(Buffer.from([0, 0]))).toBe('unknown');
  });
});

describe('patternsMatch', () => {
  it('matches plain names case-insensitively, comma lists, wildcards and negations', () => {
    expect(patternsMatch('gpu1,10.0.0.5', 'gpu1')).toBe(true);
    expect(patternsMatch('GPU1', 'gpu1')).toBe(true);
    expect(patternsMatch('gpu1', 'gpu10')).toBe(false);
    expect(patternsMatch('gpu?', 'gpu7')).toBe(true);
    expect(patternsMatch('*.lab', 'a.lab')).toBe(true);
    expect(patternsMatch('*.lab,!secret.lab', 'secret.lab')).toBe(false);
    expect(patternsMatch('[gpu1]:2222', '[gpu1]:2222')).toBe(true);
    expect(patternsMatch('[gpu1]:2222', 'gpu1')).toBe(false);
    expect(patternsMatch('a.b', 'axb')).toBe(false);
  });
});

describe('parseKnownHosts', () => {
  it('skips comments, blank, truncated, corrupt and unknown-marker lines without throwing', () => {
    const k = newKey();
    const entries = parseKnownHosts(
      [
        '# comment',
        '',
        'onlyhost',
        'host ssh-ed25519',
        'host ssh-ed25519 !!!notbase64',
        `host ssh-rsa ${k.line.split(' ')[1]}`, // blob type disagrees with declared type
        `@weird host ${k.line}`,
        `@cert-authority *.lab ${k.line}`,
        `@revoked * ${k.line}`,
        `good ${k.line} comment with spaces`,
      ].join('\n'),
      'f',
    );
    expect(entries.map((e) => [e.line, e.marker, e.patterns])).toEqual([
      [8, 'cert-authority', '*.lab'],
      [9, 'revoked', '*'],
      [10, null, 'good'],
    ]);
  });
});

describe('checkHostKey', () => {
  it('finds a match in plain, [host]:port and comma-list lines', async () => {
    const k = newKey();
    const f = file(`other,[127.0.0.2]:2222 ${k.line}\n`);
    expect((await checkHostKey({ host: '127.0.0.2', port: 2222, key: k.blob, files: [f] })).status).toBe('match');
    expect((await checkHostKey({ host: 'other', port: 22, key: k.blob, files: [f] })).status).toBe('match');
    // Same name, other port: not the same host entry.
    expect((await checkHostKey({ host: '127.0.0.2', port: 22, key: k.blob, files: [f] })).status).toBe('unknown');
  });

  it('finds a match in lines hashed by ssh-keygen -H', async () => {
    const k = newKey();
    const f = file(`[h.example]:2200 ${k.line}\ngpu9 ${k.line}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', f], { stdio: 'ignore' });
    expect(readFileSync(f, 'utf8')).toMatch(/^\|1\|/);
    expect((await checkHostKey({ host: 'h.example', port: 2200, key: k.blob, files: [f] })).status).toBe('match');
    expect((await checkHostKey({ host: 'gpu9', port: 22, key: k.blob, files: [f] })).status).toBe('match');
    expect((await checkHostKey({ host: 'gpu8', port: 22, key: k.blob, files: [f] })).status).toBe('unknown');
  });

  it('reports a different key of the same type as changed, with the old fingerprint and line', async () => {
    const old = newKey();
    const presented = newKey();
    const f = file(`# header\ngpu1 ${old.line}\n`);
    const r = await checkHostKey({ host: 'gpu1', port: 22, key: presented.blob, files: [file(''), f] });
    expect(r.status).toBe('changed');
    expect(r.file).toBe(f);
    expect(r.line).toBe(2);
    expect(r.knownKeys[0]!.fingerprint).toBe(fingerprintSha256(old.blob));
  });

  it('accepts when one file matches even if another file has an older key (rotation then trust)', async () => {
    const old = newKey();
    const cur = newKey();
    const r = await checkHostKey({ host: 'gpu1', port: 22, key: cur.blob, files: [file(`gpu1 ${old.line}\n`), file(`gpu1 ${cur.line}\n`)] });
    expect(r.status).toBe('match');
  });

  it('treats a key of another type as unknown but says which types are known', async () => {
    const ec = newKey('ecdsa');
    const ed = newKey();
    const f = file(`gpu1 ${ec.line}\n`);
    const r = await checkHostKey({ host: 'gpu1', port: 22, key: ed.blob, files: [f] });
    expect(r.status).toBe('unknown');
    expect(r.knownTypes).toEqual(['ecdsa-sha2-nistp256']);
    expect(await knownKeyTypes('gpu1', 22, [f])).toEqual(['ecdsa-sha2-nistp256']);
  });

  it('refuses a revoked key even when a line also trusts it, and ignores cert-authority lines', async () => {
    const k = newKey();
    const f = file(`gpu1 ${k.line}\n@revoked * ${k.line}\n`);
    expect((await checkHostKey({ host: 'gpu1', port: 22, key: k.blob, files: [f] })).status).toBe('revoked');
    const ca = file(`@cert-authority gpu1 ${k.line}\n`);
    expect((await checkHostKey({ host: 'gpu1', port: 22, key: k.blob, files: [ca] })).status).toBe('unknown');
  });

  it('treats missing files as empty', async () => {
    const k = newKey();
    expect((await checkHostKey({ host: 'x', port: 22, key: k.blob, files: [path.join(dir, 'nope')] })).status).toBe('unknown');
  });
});

describe('addKnownHost / removeKnownHost', () => {
  it('appends trusted keys (also concurrently) so they match afterwards, and removes them by host and port', async () => {
    const f = path.join(dir, 'sub', 'known_hosts');
    const keys = Array.from({ length: 5 }, () => newKey());
    await Promise.all(keys.map((k, i) => addKnownHost(f, `h${i}`, 2200 + i, k.blob)));
    for (const [i, k] of keys.entries()) {
      expect((await checkHostKey({ host: `h${i}`, port: 2200 + i, key: k.blob, files: [f] })).status).toBe('match');
    }
    // The file is readable by OpenSSH itself.
    const found = execFileSync('ssh-keygen', ['-F', '[h0]:2200', '-f', f], { encoding: 'utf8' });
    expect(found).toContain('[h0]:2200 ssh-ed25519');
    expect(await removeKnownHost(f, 'h0', 2200)).toBe(1);
    expect((await checkHostKey({ host: 'h0', port: 2200, key: keys[0]!.blob, files: [f] })).status).toBe('unknown');
    expect((await checkHostKey({ host: 'h1', port: 2201, key: keys[1]!.blob, files: [f] })).status).toBe('match');
  });

  it('adds a newline when the existing file lacks one', async () => {
    const a = newKey();
    const b = newKey();
    const f = file(`a ${a.line}`);
    await addKnownHost(f, 'b', 22, b.blob);
    expect((await checkHostKey({ host: 'a', port: 22, key: a.blob, files: [f] })).status).toBe('match');
    expect((await checkHostKey({ host: 'b', port: 22, key: b.blob, files: [f] })).status).toBe('match');
  });
});
