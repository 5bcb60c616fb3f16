import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ApiHandler } from '../control/api-handler';
import { serveApi, type ServeHandle } from './serve-server';

const handler: ApiHandler = {
  handle: async () => ({ version: 't', mode: 'browser', home: '/h' }),
  subscribe: () => () => {},
};

let dir: string;
let serve: ServeHandle;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'handoff-serve-'));
  await fs.mkdir(path.join(dir, 'assets'));
  await fs.writeFile(path.join(dir, 'index.html'), '<!doctype html><title>Handoff</title>');
  await fs.writeFile(path.join(dir, 'assets', 'app.js'), 'console.log(1)');
  await fs.writeFile(path.join(os.tmpdir(), 'handoff-serve-secret.txt'), 'secret');
  serve = await serveApi(handler, { staticDir: dir });
});

afterAll(async () => {
  await serve?.close();
  await fs.rm(dir, { recursive: true, force: true });
  await fs.rm(path.join(os.tmpdir(), 'handoff-serve-secret.txt'), { force: true });
});

/** Raw GET so the test controls the path and Host header exactly (fetch would normalise them). */
function get(pathAndQuery: string, host = `127.0.0.1:${serve.port}`): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: serve.port, path: pathAndQuery, headers: { Host: host } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('handoff serve HTTP side', () => {
  it('listens on 127.0.0.1 and prints a URL carrying the token', () => {
    expect(serve.url).toBe(`http://127.0.0.1:${serve.port}/?token=${serve.token}`);
    expect(serve.token.length).toBeGreaterThanOrEqual(40);
  });

  it('serves the page with the token, under a strict CSP that only allows its own WebSocket', async () => {
    const r = await get(`/?token=${serve.token}`);
    expect(r.status).toBe(200);
    expect(r.body).toContain('<title>Handoff</title>');
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(`ws://127.0.0.1:${serve.port}`);
    expect(csp).not.toMatch(/unsafe/);
  });

  it('refuses the page without the right token and says which URL to open', async () => {
    for (const p of ['/', '/index.html', '/?token=nope']) {
      const r = await get(p);
      expect(r.status).toBe(401);
      expect(r.body).toMatch(/URL printed by "handoff serve"/);
    }
  });

  it('serves built assets and nothing outside the renderer folder', async () => {
    expect((await get('/assets/app.js')).status).toBe(200);
    expect((await get('/assets/app.js')).headers['content-type']).toMatch(/javascript/);
    expect((await get('/../handoff-serve-secret.txt')).status).toBe(404);
    expect((await get('/%2e%2e/handoff-serve-secret.txt')).status).toBe(404);
    expect((await get('/assets/..%2f..%2fhandoff-serve-secret.txt')).status).toBe(404);
    expect((await get('/assets/%00')).status).toBe(404);
    expect((await get('/missing.js')).status).toBe(404);
  });

  it('refuses requests for another Host name (DNS rebinding)', async () => {
    const r = await get(`/?token=${serve.token}`, `evil.example:${serve.port}`);
    expect(r.status).toBe(403);
  });

  it('carries the API on the same port, behind the same token', async () => {
    const ok = new WebSocket(`ws://127.0.0.1:${serve.port}/api?token=${serve.token}`, { headers: { Origin: `http://127.0.0.1:${serve.port}` } });
    await new Promise<void>((resolve, reject) => {
      ok.once('open', () => resolve());
      ok.once('error', reject);
    });
    ok.close();
    const bad = new WebSocket(`ws://127.0.0.1:${serve.port}/api?token=nope`);
    const status = await new Promise<number>((resolve) => {
      bad.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
      bad.once('error', () => {});
    });
    expect(status).toBe(401);
  });

  it('explains how to build the UI when it is missing', async () => {
    await expect(serveApi(handler, { staticDir: path.join(dir, 'nope') })).rejects.toMatchObject({ code: 'renderer-not-built' });
  });
});
