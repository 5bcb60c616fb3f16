import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserFacingError } from '../../../common/errors';
import { parseProxyJump, resolveSshConfig } from './ssh-config';

const home = mkdtempSync(path.join(tmpdir(), 'ssh-config-test-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
mkdirSync(path.join(home, '.ssh'));

function config(name: string, text: string): string {
  const f = path.join(home, '.ssh', name);
  writeFileSync(f, text);
  return f;
}

const base = { homeDir: home, localUser: 'me' };

describe('resolveSshConfig', () => {
  const cfg = config(
    'config',
    `# comment
Host gpu1 gpu1-alias
  HostName 10.0.0.5
  User alice
  Port 2222
  IdentityFile ~/.ssh/id_gpu
  IdentityFile "%d/keys/%r@%h"
  ProxyJump bob@bastion:2200

Host bastion
  HostName bastion.example
  IdentityFile %d/.ssh/b_%u_%p

Host *.lab
  HostName %h.internal

Host *
  User fallback
  Port 22
`,
  );

  it('resolves HostName, User, Port, IdentityFile (with ~ and % tokens) and ProxyJump of an alias', async () => {
    expect(await resolveSshConfig('gpu1', { ...base, configFile: cfg })).toEqual({
      alias: 'gpu1',
      host: '10.0.0.5',
      user: 'alice',
      port: 2222,
      identityFiles: [path.join(home, '.ssh/id_gpu'), path.join(home, 'keys/alice@10.0.0.5')],
      proxyJump: [{ user: 'bob', host: 'bastion', port: 2200 }],
    });
  });

  it('lets the first matching block win and falls through to Host *', async () => {
    const r = await resolveSshConfig('bastion', { ...base, configFile: cfg });
    expect(r).toMatchObject({ host: 'bastion.example', user: 'fallback', port: 22, proxyJump: [] });
    expect(r.identityFiles).toEqual([path.join(home, '.ssh/b_me_22')]);
  });

  it('expands %h in HostName for wildcard blocks', async () => {
    expect((await resolveSshConfig('a.lab', { ...base, configFile: cfg })).host).toBe('a.lab.internal');
  });

  it('keeps an explicitly given user over the config', async () => {
    expect((await resolveSshConfig('gpu1', { ...base, configFile: cfg, user: 'carol' })).user).toBe('carol');
  });

  it('returns the name itself when no config file exists', async () => {
    expect(await resolveSshConfig('plain.host', { ...base, configFile: path.join(home, 'missing') })).toEqual({
      alias: 'plain.host',
      host: 'plain.host',
      identityFiles: [],
      proxyJump: [],
    });
  });

  it('follows Include lines relative to ~/.ssh, with wildcards', async () => {
    mkdirSync(path.join(home, '.ssh', 'conf.d'), { recursive: true });
    config('conf.d/10-a.conf', 'Host inc-a\n  HostName 10.1.1.1\n');
    config('conf.d/20-b.conf', 'Host inc-b\n  HostName 10.2.2.2\n  Port 2200\n');
    const main = config('config-inc', 'Include conf.d/*.conf\nHost *\n  User u\n');
    expect(await resolveSshConfig('inc-b', { ...base, configFile: main })).toMatchObject({ host: '10.2.2.2', port: 2200, user: 'u' });
  });

  it('rejects an Include loop and a bad port with a clear error', async () => {
    const loop = config('loop', 'Include loop\n');
    await expect(resolveSshConfig('x', { ...base, configFile: loop })).rejects.toThrow(/Include loop/);
    const bad = config('bad-port', 'Host x\n  Port 99999\n');
    const err = await resolveSshConfig('x', { ...base, configFile: bad }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserFacingError);
    expect((err as UserFacingError).code).toBe('ssh-config-invalid');
    expect((err as Error).message).toMatch(/Port "99999".*1-65535/);
  });
});

describe('parseProxyJump', () => {
  it('parses hop lists, none and ssh:// forms, and rejects garbage', () => {
    expect(parseProxyJump('none')).toEqual([]);
    expect(parseProxyJump('a,u@b:2,ssh://c')).toEqual([{ host: 'a' }, { user: 'u', host: 'b', port: 2 }, { host: 'c' }]);
    expect(() => parseProxyJump('a,,b')).toThrow(/not \[USER@\]HOST/);
  });
});
