import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desktopAgentArtifacts } from './agent-artifacts';
import { DESKTOP_CSP, serveAppRequest } from './app-protocol';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'handoff-app-proto-'));
  await fs.mkdir(path.join(dir, 'renderer', 'assets'), { recursive: true });
  await fs.writeFile(path.join(dir, 'renderer', 'index.html'), '<!doctype html>');
  await fs.writeFile(path.join(dir, 'renderer', 'assets', 'a.js'), 'x');
  await fs.writeFile(path.join(dir, 'secret.txt'), 'no');
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

const get = (url: string, method = 'GET') => serveAppRequest(path.join(dir, 'renderer'), { url, method });

describe('handoff:// app protocol', () => {
  it('serves the renderer with a CSP that allows no network at all', async () => {
    const r = await get('handoff://app/index.html');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-security-policy')).toBe(DESKTOP_CSP);
    expect(DESKTOP_CSP).toContain("connect-src 'none'");
    expect(DESKTOP_CSP).toContain("script-src 'self'");
    expect((await get('handoff://app/')).status).toBe(200);
    expect((await get('handoff://app/assets/a.js')).headers.get('content-type')).toMatch(/javascript/);
  });

  it('refuses files outside the renderer, other hosts and other methods', async () => {
    expect((await get('handoff://app/../secret.txt')).status).toBe(404);
    expect((await get('handoff://app/%2e%2e/secret.txt')).status).toBe(404);
    expect((await get('handoff://app/assets/..%2f..%2fsecret.txt')).status).toBe(404);
    expect((await get('handoff://other/index.html')).status).toBe(404);
    expect((await get('handoff://app/index.html', 'POST')).status).toBe(405);
  });
});

describe('desktop agent artifacts', () => {
  it('explains how to build a missing agent bundle or runtime', async () => {
    const agentDir = path.join(dir, 'agent');
    expect(() => desktopAgentArtifacts(agentDir)).toThrow(/npm run build/);
    await fs.mkdir(agentDir, { recursive: true });
    await fs.writeFile(path.join(agentDir, 'handoff-agent.cjs'), '');
    await fs.writeFile(path.join(agentDir, 'node-v22.23.3-linux-x64.tar.xz'), '');
    const a = desktopAgentArtifacts(agentDir);
    await expect(a.runtimeTarball('x64')).resolves.toBe(path.join(agentDir, 'node-v22.23.3-linux-x64.tar.xz'));
    await expect(a.runtimeTarball('arm64')).rejects.toMatchObject({ code: 'node-runtime-missing' });
  });
});
