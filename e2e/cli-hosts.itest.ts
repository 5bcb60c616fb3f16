import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshd, sshdUnavailableReason, CLIENT_KEY_PASSPHRASE, type SshdInstance } from './harness/sshd';
import { runCli } from './harness/cli';
import { shutdownLocalAgent } from './harness/controller-fixture';

const skip = sshdUnavailableReason();

describe.skipIf(skip !== null)('handoff hosts CLI', () => {
  let s: SshdInstance;
  let dir: string;
  let env: Record<string, string>;
  const target = () => `${s.user}@${s.address}:${s.port}`;

  beforeAll(async () => {
    s = await startSshd();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'handoff-cli-'));
    await fs.mkdir(path.join(dir, 'user', '.ssh'), { recursive: true });
    env = { HANDOFF_HOME: path.join(dir, 'state'), HOME: path.join(dir, 'user'), HANDOFF_AGENT_HOME: path.join(dir, 'local-agent') };
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
    await shutdownLocalAgent(path.join(dir, 'local-agent'));
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('refuses an unknown host key without --trust-host-key and shows its fingerprint', async () => {
    const r = await runCli(['hosts', 'add', 'gpu', '--ssh', target(), '--identity', s.keys.plain], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(s.hostFingerprintSha256);
    expect(r.stderr).toMatch(/--trust-host-key/);
    await runCli(['hosts', 'remove', 'gpu'], env);
  });

  it('adds and checks a host with --trust-host-key, lists it, reuses the agent, and removes it', async () => {
    const add = await runCli(['hosts', 'add', 'gpu', '--ssh', target(), '--identity', s.keys.plain, '--trust-host-key', '--json'], env);
    expect(add.stderr).toContain('Authenticate');
    expect(add.code).toBe(0);
    const added = JSON.parse(add.stdout) as { ok: boolean; agent: { uploadedBundle: boolean }; status: { info: { gpus: unknown[] } } };
    expect(added.ok).toBe(true);
    expect(added.agent.uploadedBundle).toBe(true);
    expect(added.status.info.gpus).toHaveLength(4);

    const list = await runCli(['hosts', 'list', '--json'], env);
    const hosts = JSON.parse(list.stdout) as Array<{ config: { name: string }; state: string }>;
    expect(hosts.map((h) => [h.config.name, h.state])).toEqual([
      ['this-computer', 'unknown'],
      ['gpu', 'connected'],
    ]);
    const table = await runCli(['hosts', 'list'], env);
    expect(table.stdout).toMatch(/gpu\s+\S+@127\.0\.0\.1:\d+\s+connected\s+4/);

    const again = await runCli(['hosts', 'check', 'gpu', '--json'], env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).agent.uploadedBundle).toBe(false);

    const hostsJson = await fs.readFile(path.join(env.HANDOFF_HOME!, 'hosts.json'), 'utf8');
    expect(hostsJson).not.toMatch(/PRIVATE KEY|passphrase/i);
    expect((await runCli(['hosts', 'remove', 'gpu'], env)).code).toBe(0);
    expect((await runCli(['hosts', 'check', 'gpu'], env)).stderr).toMatch(/no host named "gpu"/);
  }, 120_000);

  it('fails clearly on a passphrase-protected key unless --identity-passphrase-env is given', async () => {
    const r = await runCli(['hosts', 'add', 'enc', '--ssh', target(), '--identity', s.keys.encrypted, '--trust-host-key'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--identity-passphrase-env/);
    const ok = await runCli(['hosts', 'check', 'enc', '--identity-passphrase-env', 'KEY_PASS'], { ...env, KEY_PASS: CLIENT_KEY_PASSPHRASE });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/enc: connected/);
    await runCli(['hosts', 'remove', 'enc'], env);
  }, 120_000);

  it('checks this computer as a local host and rejects bad usage with exit code 2', async () => {
    const r = await runCli(['hosts', 'check', 'this-computer'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/this-computer: connected/);
    const bad = await runCli(['hosts', 'add', 'x', '--ssh', 'not a target'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/USER@HOST\[:PORT\]/);
    const both = await runCli(['hosts', 'add', 'x'], env);
    expect(both.code).toBe(2);
  }, 60_000);
});
