/**
 * Chat playground latency (issue 7, "Figure"): at 200 streamed tokens/s, the time from the moment
 * a token leaves for the router to the frame that shows it, measured in Chromium with performance
 * marks. The real path: an engine stand-in (here, recording when it writes each token) → the router
 * process → the controller's ChatService (HTTP client, batched chat.delta events) → `handoff
 * serve`'s WebSocket → the built renderer, which commits streamed text once per animation frame and
 * marks `handoff:chat-frame` (`?perfmarks`) with the text length on screen.
 * Baseline, measured in the same run: a minimal page that appends each token straight from a
 * WebSocket fed by a bare SSE client of the same router, painting in the next frame too.
 * Clocks: Node's and Chromium's `timeOrigin + now()` are both wall-clock based; the page's offset is
 * calibrated with round trips (error under half the shortest round trip, < 0.5 ms).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createParser } from 'eventsource-parser';
import { WebSocketServer } from 'ws';
import type { DeploymentRecord, DeploymentSummary, ForwardInfo } from '../common/deployment-view';
import { buildRenderer } from '../build/build';
import { createController } from '../electron/control/controller';
import { defaultRendererDir, serveApi } from '../electron/cli/serve-server';
import { spawnRouter, type ChildHandle } from '../agents/router/test-processes';
import { agentArtifactsForTests } from '../e2e/harness/controller-fixture';
import type { BenchRow } from './bench-row';
import { percentile } from './router-load';

const tokensPerS = 200;
const tokensPerRun = 400;
const runs = Number(process.env.CHAT_BENCH_RUNS ?? 3);
/** Every token is the same width, so the text length on screen tells how many tokens it holds. */
const tokenText = (i: number) => `w${String(i).padStart(4, '0')} `;
const tokenChars = tokenText(0).length;
const nowMs = () => performance.timeOrigin + performance.now();

/** An OpenAI-style engine that streams fixed-width tokens at a steady rate and records when it wrote each. */
async function pacedEngine(): Promise<{ url: string; sentAt: number[][]; close(): Promise<void> }> {
  const sentAt: number[][] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url !== '/v1/chat/completions') {
        res.writeHead(req.url === '/health' ? 200 : 404).end('{}');
        return;
      }
      const times: number[] = [];
      sentAt.push(times);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.socket?.setNoDelay(true);
      const start = nowMs();
      let i = 0;
      const step = () => {
        if (res.destroyed) return;
        const chunk = { id: 'b', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: tokenText(i) }, finish_reason: i === tokensPerRun - 1 ? 'length' : null }] };
        times.push(nowMs());
        res.write(`data: ${JSON.stringify(chunk)}\n\n`);
        i++;
        if (i < tokensPerRun) setTimeout(step, Math.max(0, start + (i * 1000) / tokensPerS - nowMs()));
        else res.end(`data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 5, completion_tokens: tokensPerRun } })}\n\ndata: [DONE]\n\n`);
      };
      // A first token a little after the request, as after a prefill.
      setTimeout(step, 20);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sentAt,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** Page time minus Node time, from the round trip with the least delay. */
async function clockOffsetMs(page: Page): Promise<number> {
  let best = { rtt: Infinity, offset: 0 };
  for (let i = 0; i < 30; i++) {
    const t0 = nowMs();
    const tb = await page.evaluate(() => performance.timeOrigin + performance.now());
    const t1 = nowMs();
    if (t1 - t0 < best.rtt) best = { rtt: t1 - t0, offset: tb - (t0 + t1) / 2 };
  }
  return best.offset;
}

interface Frame {
  atMs: number;
  chars: number;
}

/** For every token of a run: the first frame showing it − when the engine wrote it. */
function tokenLatencies(sentAt: number[], frames: Frame[], offsetMs: number): number[] {
  const out: number[] = [];
  let f = 0;
  const sorted = [...frames].sort((a, b) => a.atMs - b.atMs);
  for (let k = 0; k < sentAt.length; k++) {
    const need = (k + 1) * tokenChars;
    while (f < sorted.length && sorted[f]!.chars < need) f++;
    const frame = sorted[f];
    if (!frame) break;
    out.push(frame.atMs - offsetMs - sentAt[k]!);
  }
  return out;
}

const framesScript = () =>
  performance.getEntriesByName('handoff:chat-frame').map((e) => ({ atMs: performance.timeOrigin + e.startTime, chars: (e as PerformanceMark).detail.chars as number }));

/** The app: real controller + WebSocket + renderer, with the deployment calls pointed at the router. */
async function measureApp(browser: Browser, routerUrl: string, engine: { sentAt: number[][] }): Promise<{ screen: number[]; controller: number[] }> {
  const home = await fsp.mkdtemp(path.join(os.tmpdir(), 'handoff-chat-bench-'));
  const controller = await createController({ home, mode: 'browser', artifacts: await agentArtifactsForTests(), localAgentHome: path.join(home, 'agent') });
  const port = Number(new URL(routerUrl).port);
  const summary: DeploymentSummary = {
    id: 'bench-1', name: 'chat-bench', simulated: true, engine: 'mocker', mode: 'aggregated', model: 'bench-model', hosts: ['this-computer'],
    endpoint: { host: 'this-computer', url: routerUrl, openaiBaseUrl: `${routerUrl}/v1`, model: 'bench-model' }, createdAt: new Date().toISOString(),
    stoppedAt: null, state: 'ready', error: null, processCount: 2,
  };
  const record = { id: summary.id, name: summary.name, simulated: true, stoppedAt: null, plan: { mode: 'aggregated', model: { servedName: 'bench-model' } } } as unknown as DeploymentRecord;
  const fwd: ForwardInfo = { id: summary.id, host: 'this-computer', localPort: port, url: `${routerUrl}/v1`, remote: new URL(routerUrl).host };
  // Only the deployment lookups are replaced (no agent, no deployments.json): the chat path is the real one.
  controller.deployments.list = async () => [summary];
  controller.deployments.resolve = async () => record;
  controller.deployments.forward = async () => fwd;
  const serve = await serveApi(controller);
  // Where the time goes: when the controller hands each token to the transport, as frames of its own.
  let events: Frame[] = [];
  controller.chat.on('delta', (d) => events.push({ atMs: nowMs(), chars: (events.at(-1)?.chars ?? 0) + d.text.length }));
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  try {
    await page.goto(`${serve.url}&perfmarks#/playground`);
    await page.getByTestId('lane-0-deployment').selectOption('bench-1');
    await page.getByTestId('param-maxTokens').fill(String(tokensPerRun));
    const offset = await clockOffsetMs(page);
    const all: number[] = [];
    const atController: number[] = [];
    for (let r = 0; r < runs; r++) {
      events = [];
      await page.evaluate(() => performance.clearMarks('handoff:chat-frame'));
      await page.getByTestId('chat-new').click();
      await page.getByTestId('chat-input').fill(`run ${r}`);
      const before = engine.sentAt.length;
      await page.getByTestId('chat-send').click();
      await page.getByTestId('reply-lane-0').and(page.locator('[data-state="done"]')).waitFor({ timeout: 60_000 });
      const frames = await page.evaluate(framesScript);
      all.push(...tokenLatencies(engine.sentAt[before]!, frames, offset));
      atController.push(...tokenLatencies(engine.sentAt[before]!, events, 0));
    }
    return { screen: all, controller: atController };
  } finally {
    await page.close();
    await serve.close();
    await controller.close();
    await fsp.rm(home, { recursive: true, force: true });
  }
}

const BASELINE_PAGE = `<!doctype html><meta charset="utf-8"><body><pre id="out"></pre><script>
const out = document.getElementById('out');
let chars = 0, frame = null;
const ws = new WebSocket('ws://' + location.host + '/ws');
ws.onmessage = (e) => {
  out.append(e.data);
  chars += e.data.length;
  frame ??= requestAnimationFrame(() => { frame = null; performance.mark('handoff:chat-frame', { detail: { chars } }); });
};
window.startRun = () => { chars = 0; out.textContent = ''; performance.clearMarks('handoff:chat-frame'); ws.send('go'); };
</script>`;

/** The baseline: each token straight from a bare SSE client of the router onto a WebSocket, appended to the page at once. */
async function measureBaseline(browser: Browser, routerUrl: string, engine: { sentAt: number[][] }): Promise<{ screen: number[]; server: number[] }> {
  let sends: Frame[] = [];
  const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(BASELINE_PAGE));
  const wss = new WebSocketServer({ server, path: '/ws' });
  let finished: () => void = () => undefined;
  wss.on('connection', (ws) => {
    ws.on('message', () => {
      const req = http.request(`${routerUrl}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false }, (res) => {
        const parser = createParser({
          onEvent: (ev) => {
            if (ev.data === '[DONE]') return;
            const v = JSON.parse(ev.data) as { choices?: Array<{ delta?: { content?: string } }> };
            const t = v.choices?.[0]?.delta?.content;
            if (t) {
              ws.send(t);
              sends.push({ atMs: nowMs(), chars: (sends.at(-1)?.chars ?? 0) + t.length });
            }
          },
        });
        res.setEncoding('utf8');
        res.on('data', (c: string) => parser.feed(c));
        res.on('end', () => finished());
      });
      req.on('socket', (s) => s.setNoDelay(true));
      req.end(JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: 'go' }], stream: true }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const page = await browser.newPage();
  try {
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => typeof (window as unknown as { startRun?: unknown }).startRun === 'function');
    await page.waitForTimeout(200);
    const offset = await clockOffsetMs(page);
    const all: number[] = [];
    const atServer: number[] = [];
    for (let r = 0; r < runs; r++) {
      sends = [];
      const before = engine.sentAt.length;
      const done = new Promise<void>((resolve) => (finished = resolve));
      await page.evaluate(() => (window as unknown as { startRun: () => void }).startRun());
      await done;
      await page.waitForTimeout(100);
      all.push(...tokenLatencies(engine.sentAt[before]!, await page.evaluate(framesScript), offset));
      atServer.push(...tokenLatencies(engine.sentAt[before]!, sends, 0));
    }
    return { screen: all, server: atServer };
  } finally {
    await page.close();
    wss.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

export async function benchChatLatency(): Promise<BenchRow[]> {
  if (!fs.existsSync(path.join(defaultRendererDir(), 'index.html'))) await buildRenderer();
  const engine = await pacedEngine();
  let router: ChildHandle | null = null;
  let browser: Browser | null = null;
  try {
    router = await spawnRouter(['--port', '0', '--mode', 'aggregated', '--worker', engine.url, '--log-level', 'warn']);
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-dev-shm-usage'],
    });
    // Alternate so background load on the machine hits both alike.
    const base1 = await measureBaseline(browser, router.url, engine);
    const measured = await measureApp(browser, router.url, engine);
    const base2 = await measureBaseline(browser, router.url, engine);
    const app = measured.screen;
    const base = [...base1.screen, ...base2.screen];
    const baseServer = [...base1.server, ...base2.server];
    const load = os.loadavg()[0]!.toFixed(1);
    const p = (xs: number[], q: number) => (xs.length ? percentile(xs, q) : NaN);
    const label = `minimal WebSocket page, ${base.length} tokens; load avg ${load} on ${os.cpus().length} CPUs`;
    return [
      { figure: `chat: router → token on screen p50 (${tokensPerS} tok/s, ${app.length} tokens)`, value: p(app, 50), unit: 'ms', goal: '≤ 16 ms', baseline: p(base, 50), baselineLabel: label },
      { figure: 'chat: router → token on screen p95', value: p(app, 95), unit: 'ms', goal: '(informational)', baseline: p(base, 95), baselineLabel: label },
      {
        figure: 'chat: router → controller chat.delta event p50 (part of the above)',
        value: p(measured.controller, 50),
        unit: 'ms',
        goal: '(informational)',
        baseline: p(baseServer, 50),
        baselineLabel: 'bare SSE client → WebSocket send',
      },
    ];
  } finally {
    await browser?.close();
    await router?.stop();
    await engine.close();
  }
}
