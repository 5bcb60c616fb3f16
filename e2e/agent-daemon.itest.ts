/**
 * The agent daemon and `attach`, run from the esbuild bundle as real processes, the way the
 * controller drives them over an SSH exec channel (here: a local child's stdio).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { agentLayout } from '../common/agent-layout';
import { HANDOFF_VERSION } from '../common/version';
import { readDaemonPid, spawnAttach, stopAllDaemonsIn, type LocalAttach } from '../agents/daemon/local-agent';
import { pidAlive } from '../agents/daemon/start-lock';
import { buildAgentBundle } from '../build/agent-bundle';

let bundle: string;
let home: string;
const attaches: LocalAttach[] = [];
const tmpDirs: string[] = [];

beforeAll(async () => {
  bundle = await buildAgentBundle(path.join(os.tmpdir(), `handoff-agent-itest-${process.pid}.cjs`));
});

afterAll(async () => {
  await fs.rm(bundle, { force: true });
});

async function newHome(): Promise<string> {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), 'hoa-'));
  tmpDirs.push(d);
  return path.join(d, 'home');
}

beforeEach(async () => {
  home = await newHome();
});

afterEach(async () => {
  for (const a of attaches.splice(0)) a.child.kill('SIGKILL');
  for (const d of tmpDirs.splice(0)) {
    await stopAllDaemonsIn(path.join(d, 'home'));
    await fs.rm(d, { recursive: true, force: true });
  }
});

function attach(h = home, env?: NodeJS.ProcessEnv): LocalAttach {
  const a = spawnAttach(bundle, h, env ? { env } : {});
  attaches.push(a);
  return a;
}

/** Writes raw lines to attach and collects the raw reply lines, for messages the typed client would never send. */
function rawAttach(h = home) {
  const a = attach(h);
  const lines: Array<Record<string, unknown>> = [];
  let buf = '';
  a.child.stdout.removeAllListeners('data');
  a.child.stdout.setEncoding('utf8');
  a.child.stdout.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
      buf = buf.slice(nl + 1);
    }
  });
  return { a, lines, send: (text: string) => a.child.stdin.write(text) };
}

const HELLO = JSON.stringify({ jsonrpc: '2.0', id: 'h', method: 'agent.hello', params: { protocol: 1, clientVersion: 'itest' } });

describe('agent daemon and attach (from the bundle)', () => {
  it('attach starts the daemon, which answers the handshake with its pid, version and home', async () => {
    const { client } = attach();
    const hello = await client.hello(HANDOFF_VERSION);
    expect(hello).toMatchObject({ protocol: 1, agentVersion: HANDOFF_VERSION, home });
    expect(await readDaemonPid(home)).toBe(hello.pid);
    expect(pidAlive(hello.pid)).toBe(true);
    expect((await client.call('agent.ping', {})).pong).toBe(true);
  });

  it('creates the agent home 0700 and the socket and pid file 0600', async () => {
    await attach().client.hello(HANDOFF_VERSION);
    const layout = agentLayout(home, HANDOFF_VERSION);
    const mode = async (p: string) => (await fs.stat(p)).mode & 0o777;
    expect((await fs.stat(layout.socket)).isSocket()).toBe(true);
    expect(await mode(layout.socket)).toBe(0o600);
    expect(await mode(layout.pidFile)).toBe(0o600);
    expect(await mode(home)).toBe(0o700);
    expect(await mode(layout.daemonLog)).toBe(0o600);
  });

  it('answers a protocol mismatch with an error that says to update the agent, then accepts a correct hello', async () => {
    const { client } = attach();
    const err = await client.request('agent.hello', { protocol: 99, clientVersion: '9.0.0' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'protocol-mismatch' });
    expect((err as Error).message).toMatch(/Update the agent/);
    await expect(client.call('agent.ping', {})).rejects.toMatchObject({ code: 'hello-required' });
    expect((await client.hello(HANDOFF_VERSION)).protocol).toBe(1);
  });

  it('answers each malformed line with an error reply and keeps serving', async () => {
    const { lines, send } = rawAttach();
    send('this is not json\n');
    send('{"jsonrpc":"2.0","id":1,"method":"agent.ping"}\n'); // before hello
    send(HELLO + '\n');
    send('{"jsonrpc":"1.0","id":2,"method":"agent.ping"}\n'); // wrong shape
    send('[1,2,3]\n');
    send('{"jsonrpc":"2.0","id":3,"method":"no.such.method"}\n');
    send('{"jsonrpc":"2.0","id":4,"method":"host.info","params":{"refresh":"yes"}}\n');
    send('{"jsonrpc":"2.0","id":5,"method":"agent.hello","params":[]}\n');
    send('{"jsonrpc":"2.0","id":6,"method":"agent.ping"}\n');
    await expect.poll(() => lines.length, { timeout: 15_000 }).toBe(9);
    const byId = (id: unknown) => lines.find((l) => l.id === id) as { error?: { code: number; data: { code: string; message: string } }; result?: unknown };
    const nullIds = lines.filter((l) => l.id === null) as Array<{ error: { code: number } }>;
    expect(nullIds.map((l) => l.error.code).sort()).toEqual([-32700, -32600].sort());
    expect(byId(1).error).toMatchObject({ code: -32000, data: { code: 'hello-required' } });
    expect(byId('h').result).toMatchObject({ protocol: 1 });
    expect(byId(2).error).toMatchObject({ code: -32600 });
    expect(byId(3).error).toMatchObject({ code: -32601, data: { code: 'unknown-method' } });
    expect(byId(4).error).toMatchObject({ code: -32602, data: { code: 'invalid-params' } });
    expect(byId(5).error).toMatchObject({ code: -32602 });
    expect(byId(6).result).toMatchObject({ pong: true });
  });

  it('answers an oversize line with an error and serves the next one', async () => {
    const { lines, send } = rawAttach();
    send(HELLO + '\n');
    send('{"jsonrpc":"2.0","id":1,"method":"agent.ping","params":{"pad":"' + 'x'.repeat(5 * 1024 * 1024) + '"}}\n');
    send('{"jsonrpc":"2.0","id":2,"method":"agent.ping"}\n');
    await expect.poll(() => lines.length, { timeout: 20_000 }).toBe(3);
    expect(lines[1]).toMatchObject({ id: null, error: { data: { code: 'line-too-long' } } });
    expect(lines[2]).toMatchObject({ id: 2, result: { pong: true } });
  });

  it('keeps the daemon running when attach is killed (SSH dropped), and the next attach reaches the same daemon', async () => {
    const first = attach();
    const { pid } = await first.client.hello(HANDOFF_VERSION);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(pidAlive(pid)).toBe(true);
    const second = attach();
    expect((await second.client.hello(HANDOFF_VERSION)).pid).toBe(pid);
  });

  it('exits attach on stdin EOF after delivering replies in flight, leaving the daemon up', async () => {
    const { a, lines, send } = rawAttach();
    send(HELLO + '\n{"jsonrpc":"2.0","id":1,"method":"agent.stats"}\n');
    a.child.stdin.end();
    expect(await a.exited).toBe(0);
    expect(lines.map((l) => l.id)).toEqual(['h', 1]);
    const pid = await readDaemonPid(home);
    expect(pid !== null && pidAlive(pid)).toBe(true);
  });

  it('starts one daemon for two attaches racing on a fresh home, and both see it', async () => {
    const a = attach();
    const b = attach();
    const [ha, hb] = await Promise.all([a.client.hello(HANDOFF_VERSION), b.client.hello(HANDOFF_VERSION)]);
    expect(ha.pid).toBe(hb.pid);
    expect((await a.client.call('agent.stats', {})).clients).toBe(2);
    const log = await fs.readFile(agentLayout(home, HANDOFF_VERSION).daemonLog, 'utf8');
    expect(log.match(/agent daemon started/g)).toHaveLength(1);
  });

  it('stops on agent.shutdown: every client is told, attaches exit, socket and pid file are removed', async () => {
    const a = attach();
    const { pid } = await a.client.hello(HANDOFF_VERSION);
    const b = attach();
    await b.client.hello(HANDOFF_VERSION);
    const told = new Promise((r) => b.client.onAgentNotification('agent.log', r));
    expect(await a.client.call('agent.shutdown', {})).toEqual({ ok: true });
    expect(await told).toMatchObject({ msg: expect.stringContaining('stopping') });
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
    await expect.poll(() => pidAlive(pid)).toBe(false);
    const layout = agentLayout(home, HANDOFF_VERSION);
    await expect(fs.access(layout.socket)).rejects.toThrow();
    await expect(fs.access(layout.pidFile)).rejects.toThrow();
  });

  it('can be replaced: right after agent.shutdown the next attach starts a new daemon whose socket outlives the old one', async () => {
    const old = attach();
    const { pid: oldPid } = await old.client.hello(HANDOFF_VERSION);
    await old.client.call('agent.shutdown', {});
    await old.exited;
    const fresh = attach();
    const { pid: newPid } = await fresh.client.hello(HANDOFF_VERSION);
    expect(newPid).not.toBe(oldPid);
    await expect.poll(() => pidAlive(oldPid)).toBe(false);
    const again = spawnAttach(bundle, home, { args: ['--no-start'] });
    attaches.push(again);
    expect((await again.client.hello(HANDOFF_VERSION)).pid).toBe(newPid);
  });

  it('shuts down gracefully on SIGTERM and the next attach starts a fresh daemon', async () => {
    const { pid } = await attach().client.hello(HANDOFF_VERSION);
    process.kill(pid, 'SIGTERM');
    await expect.poll(() => pidAlive(pid)).toBe(false);
    const log = await fs.readFile(agentLayout(home, HANDOFF_VERSION).daemonLog, 'utf8');
    expect(log).toContain('"msg":"agent daemon stopped","pid":' + pid);
    const next = await attach().client.hello(HANDOFF_VERSION);
    expect(next.pid).not.toBe(pid);
  });

  it('cleans up the stale socket of a daemon that was killed and starts a new one', async () => {
    const { pid } = await attach().client.hello(HANDOFF_VERSION);
    process.kill(pid, 'SIGKILL');
    await expect.poll(() => pidAlive(pid)).toBe(false);
    await fs.access(agentLayout(home, HANDOFF_VERSION).socket);
    const next = await attach().client.hello(HANDOFF_VERSION);
    expect(next.pid).not.toBe(pid);
    expect(await fs.readFile(agentLayout(home, HANDOFF_VERSION).daemonLog, 'utf8')).toContain('removing a stale socket');
  });

  it('refuses to start a second daemon while one serves the socket', async () => {
    const { pid } = await attach().client.hello(HANDOFF_VERSION);
    const second = spawn(process.execPath, [bundle, 'daemon', '--home', home], { stdio: 'ignore' });
    const code = await new Promise((r) => second.on('close', r));
    expect(code).toBe(3);
    expect(pidAlive(pid)).toBe(true);
    expect((await attach().client.hello(HANDOFF_VERSION)).pid).toBe(pid);
  });

  it('fails attach with a clear message when the daemon cannot start', async () => {
    const deep = path.join(path.dirname(home), 'x'.repeat(120));
    const a = attach(deep);
    expect(await a.exited).toBe(1);
    expect(a.stderr()).toMatch(/exited during startup[\s\S]*longer than the 107 bytes/);
    expect(a.stderr()).toContain('HANDOFF_AGENT_HOME');
  });

  it('with --no-start, reports that no daemon is running instead of starting one', async () => {
    const a = spawnAttach(bundle, home, { args: ['--no-start'] });
    attaches.push(a);
    expect(await a.exited).toBe(1);
    expect(a.stderr()).toContain('no agent daemon is listening');
  });
});
