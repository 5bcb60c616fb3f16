import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildElectron } from '../build/build';

/**
 * The Electron binary cannot be downloaded here, so the bundled main and preload run under plain
 * Node against a recording stub of the 'electron' module (e2e/electron-stub/). This checks the
 * real bundles: window settings, the app protocol and its CSP, IPC sender and envelope checks
 * against the real controller, navigation and permission hardening, and the preload's surface.
 */
const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
let dir: string;

async function drive(script: string, bundle: string): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, [path.join(dir, script), path.join(dir, 'dist', 'electron', bundle)], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', HOME: path.join(dir, 'user'), HANDOFF_HOME: path.join(dir, 'home'), STUB_APP_DATA: path.join(dir, 'appdata') },
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'handoff-electron-'));
  await buildElectron(path.join(dir, 'dist', 'electron'));
  await fs.mkdir(path.join(dir, 'dist', 'renderer'), { recursive: true });
  await fs.writeFile(path.join(dir, 'dist', 'renderer', 'index.html'), '<!doctype html><title>Handoff</title>');
  await fs.mkdir(path.join(dir, 'dist', 'agent'), { recursive: true });
  await fs.writeFile(path.join(dir, 'dist', 'agent', 'handoff-agent.cjs'), '');
  await fs.mkdir(path.join(dir, 'node_modules', 'electron'), { recursive: true });
  await fs.copyFile(path.join(here, 'electron-stub', 'electron-stub.cjs'), path.join(dir, 'node_modules', 'electron', 'index.js'));
  for (const f of ['drive-main.cjs', 'drive-preload.cjs']) await fs.copyFile(path.join(here, 'electron-stub', f), path.join(dir, f));
  await fs.mkdir(path.join(dir, 'user'), { recursive: true });
}, 120_000);

afterAll(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe('Electron main bundle (against a recording electron stub)', () => {
  it('opens a sandboxed, isolated window on the app protocol and serves the API only to it', async () => {
    const out = await drive('drive-main.cjs', 'main.cjs');
    expect(out.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, allowRunningInsecureContent: false, webviewTag: false });
    expect(out.preload).toBe('preload.cjs');
    expect(out.sandbox).toBe(true);
    expect(out.url).toBe('handoff://app/index.html');
    expect(out.userData).toBe(path.join(dir, 'appdata', 'Handoff'));
    expect(out.page).toMatchObject({ status: 200, body: '<!doctype html><title>Handoff</title>' });
    expect((out.page as { csp: string }).csp).toMatch(/default-src 'none'; script-src 'self'.*connect-src 'none'/);
    expect(out.traversal).toBe(404);

    expect(out.info).toEqual({ id: 1, ok: true, result: { version: expect.any(String), mode: 'electron', home: path.join(dir, 'home') } });
    expect(out.hosts).toMatchObject({ id: 2, ok: true, result: [{ config: { kind: 'local', name: 'this-computer' } }] });
    for (const k of ['foreign', 'subFrame', 'otherWindow']) expect(out[k]).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(out.malformed).toMatchObject({ id: 0, ok: false, error: { code: 'bad-message' } });

    expect(out.added).toMatchObject({ id: 6, ok: true, result: { host: { config: { name: 'closed' } } } });
    const events = out.events as Array<[string, string, string | null]>;
    expect(events.every(([ch]) => ch === 'handoff:event')).toBe(true);
    expect(events.some(([, e]) => e === 'hosts.changed')).toBe(true);
    expect(events.filter(([, e]) => e === 'task.updated').pop()?.[2]).toBe('failed');

    expect(out.navigationsPrevented).toBe(3);
    expect(out.windowOpen).toEqual({ action: 'deny' });
    expect(out.permissionGranted).toBe(false);
    expect(out.permissionCheck).toBe(false);
    expect(out.exitCode).toBe(0);
  }, 90_000);

  it('exposes only call and onEvent from the preload, on the handoff: channels', async () => {
    const out = await drive('drive-preload.cjs', 'preload.cjs');
    expect(out.exposedKeys).toEqual(['handoff']);
    expect(out.bridgeKeys).toEqual(['call', 'onEvent']);
    expect(out.invoked).toEqual([
      ['handoff:call', { id: 1, method: 'app.info' }],
      ['handoff:call', { id: 2, method: 'hosts.remove', params: { name: 'x' } }],
    ]);
    expect(out.seen).toEqual([{ event: 'hosts.changed', data: [] }]);
    expect(out.listenersAfterOff).toBe(0);
    expect(out.channels).toEqual(['handoff:event']);
  }, 60_000);
});
