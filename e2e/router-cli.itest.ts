/** `handoff-agent router` as a process: flag errors, port clashes, clean stop with flushed traces. */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRouterTraceLine } from '../common/router-trace';
import { startFakeVllm } from '../agents/router/fake-vllm';
import { runAgentCommand, spawnRouter } from '../agents/router/test-processes';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('handoff-agent router process', () => {
  it('exits with code 2 and names the problem when flags are wrong', async () => {
    const missing = await runAgentCommand(['router', '--port', '0', '--mode', 'disaggregated', '--prefill', 'http://127.0.0.1:1']);
    expect(missing.code).toBe(2);
    expect(missing.output).toContain('decode: disaggregated mode needs at least one --decode URL');
    const badMode = await runAgentCommand(['router', '--port', '0', '--mode', 'both']);
    expect(badMode.code).toBe(2);
    expect(badMode.output).toContain('--mode must be aggregated or disaggregated, got "both".');
    const noPort = await runAgentCommand(['router', '--mode', 'aggregated', '--worker', 'http://127.0.0.1:1']);
    expect(noPort.code).toBe(2);
    expect(noPort.output).toContain("required option '--port <n>' not specified");
  });

  it('exits with code 1 and says why when its port is taken', async () => {
    const blocker = http.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => blocker.close(() => r())));
    const port = (blocker.address() as AddressInfo).port;
    const r = await runAgentCommand(['router', '--port', String(port), '--mode', 'aggregated', '--worker', 'http://127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(r.output).toContain(`could not start: listen EADDRINUSE: address already in use 127.0.0.1:${port}`);
  });

  it('stops on SIGTERM with code 0 after writing the trace of every request it served', async () => {
    const engine = await startFakeVllm();
    cleanups.push(() => engine.close());
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'router-cli-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const traceFile = path.join(dir, 'traces.jsonl');
    const router = await spawnRouter(['--port', '0', '--mode', 'aggregated', '--worker', engine.url, '--trace-file', traceFile]);
    cleanups.push(() => router.stop());
    const ids = ['cli-1', 'cli-2', 'cli-3'];
    for (const id of ids) {
      const res = await fetch(`${router.url}/v1/completions`, { method: 'POST', headers: { 'x-request-id': id }, body: JSON.stringify({ prompt: 'x', max_tokens: 2, stream: true }) });
      expect(res.status).toBe(200);
      await res.text();
    }
    expect(await router.stop()).toBe(0);
    const traces = fs.readFileSync(traceFile, 'utf8').split('\n').filter(Boolean).map(parseRouterTraceLine);
    expect(traces.map((t) => t.requestId)).toEqual(ids);
    const log = router.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: string; msg: string });
    expect(log.map((l) => l.msg)).toEqual(['router listening', 'router stopping']);
  });
});
