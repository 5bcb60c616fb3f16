import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostsStore } from './hosts-store';

let home: string;
beforeEach(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'handoff-hosts-'));
});
afterEach(async () => {
  await fs.rm(home, { recursive: true, force: true });
});

describe('HostsStore', () => {
  it('has this computer from the start', async () => {
    const hosts = await new HostsStore(home).list();
    expect(hosts).toHaveLength(1);
    expect(hosts[0]).toMatchObject({ kind: 'local', name: 'this-computer' });
  });

  it('saves ssh hosts without secrets and refuses duplicates', async () => {
    const store = new HostsStore(home);
    await store.add({ kind: 'ssh', name: 'gpu1', target: { user: 'me', host: 'gpu1.lan', port: 2222 }, identityFile: '/k/id', addedAt: 'now' });
    await expect(store.add({ kind: 'ssh', name: 'gpu1', target: { host: 'x' }, addedAt: 'now' })).rejects.toThrow(/already exists/);
    const text = await fs.readFile(path.join(home, 'hosts.json'), 'utf8');
    expect(text).toContain('gpu1.lan');
    expect(text).not.toMatch(/passphrase|password|BEGIN/i);
    expect((await fs.stat(path.join(home, 'hosts.json'))).mode & 0o777).toBe(0o600);
  });

  it('removes a host but never this computer', async () => {
    const store = new HostsStore(home);
    await store.add({ kind: 'ssh', name: 'gpu1', target: { host: 'h' }, addedAt: 'now' });
    await store.remove('gpu1');
    expect((await store.list()).map((h) => h.name)).toEqual(['this-computer']);
    await expect(store.remove('this-computer')).rejects.toThrow(/cannot be removed/);
    await expect(store.remove('nope')).rejects.toThrow(/no host named "nope"/);
  });

  it('gives a clear error for a corrupt hosts.json', async () => {
    await fs.writeFile(path.join(home, 'hosts.json'), '{"version": 1, "hosts": [{"kind": "ssh"}]');
    await expect(new HostsStore(home).list()).rejects.toThrow(/not valid JSON/);
    await fs.writeFile(path.join(home, 'hosts.json'), '{"version": 1, "hosts": [{"kind": "ssh"}]}');
    await expect(new HostsStore(home).list()).rejects.toThrow(/hosts\.0/);
  });

  it('keeps both of two concurrent adds', async () => {
    const store = new HostsStore(home);
    await Promise.all([
      store.add({ kind: 'ssh', name: 'a', target: { host: 'a' }, addedAt: 'now' }),
      store.add({ kind: 'ssh', name: 'b', target: { host: 'b' }, addedAt: 'now' }),
    ]);
    expect((await store.list()).map((h) => h.name).sort()).toEqual(['a', 'b', 'this-computer']);
  });
});
