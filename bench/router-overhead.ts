/**
 * Router overhead (issue 4, "Figures"), every process separate (engine, router, pipe, client):
 *  - added TTFT at 256 concurrent streaming requests: the same closed-loop load is sent straight to
 *    the engine (baseline) and through an aggregated router in front of it, in alternating phases so
 *    background load hits both; added = router percentile − direct percentile.
 *  - relay cost: tokens relayed per CPU-second of the router process (from /proc) — with a
 *    zero-latency engine streaming as fast as it can, and at the paced 256-stream load where every
 *    token is its own chunk. The baseline is a raw TCP pipe (no HTTP at all) under the same load:
 *    the floor any relay in Node pays for the two socket operations per chunk.
 * The engine is the mocker (zero-latency or paced profile) when it runs here, else the in-repo fake
 * engine (agents/router/fake-vllm.ts); the baseline label says which.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseRouterTraceLine } from '../common/router-trace';
import { freePort, processCpuSeconds, spawnFakeVllm, spawnMocker, spawnNodeEval, spawnRouter, type ChildHandle } from '../agents/router/test-processes';
import type { BenchRow } from './bench-row';
import { closedLoop, percentile, type LoadResult } from './router-load';

const concurrency = 256;
const pacedTokens = 32;
// A decode step at batch 256 of an 8B model on one H100 takes tens of milliseconds.
const pacedItlMs = 30;
const phaseMs = Number(process.env.ROUTER_BENCH_PHASE_MS ?? 3000);

/**
 * Paced engine for the TTFT figure: first token at once, then one token per decode step, so 256
 * streams stay in flight without saturating the machine. The fake engine is used rather than the
 * mocker because its first token leaves the moment the request arrives: the mocker waits for its
 * next simulated step (0–30 ms of jitter), which would bury a sub-millisecond difference.
 */
async function pacedEngine(): Promise<{ engine: ChildHandle; label: string }> {
  return { engine: await spawnFakeVllm({ tokenDelayMs: pacedItlMs }), label: 'paced fake engine' };
}

async function zeroLatencyEngine(): Promise<{ engine: ChildHandle; label: string }> {
  const mocker = await spawnMocker('bench-model', ['--mocker-time-scale', '0', '--mocker-eos-probability', '0', '--max-num-seqs', '1024'], 20_000).catch(() => null);
  if (mocker) return { engine: mocker, label: 'mocker' };
  return { engine: await spawnFakeVllm({ tokenDelayMs: 0 }), label: 'fake engine' };
}

/** A raw TCP pipe to the engine in its own process: the relay floor. */
async function tcpPipe(engineUrl: string): Promise<ChildHandle> {
  const port = await freePort();
  const u = new URL(engineUrl);
  const src =
    `const net=require('node:net');net.createServer({noDelay:true},(c)=>{` +
    `const u=net.connect(${Number(u.port)},${JSON.stringify(u.hostname)});u.setNoDelay(true);c.pipe(u);u.pipe(c);` +
    `c.on('error',()=>u.destroy());u.on('error',()=>c.destroy());c.on('close',()=>u.destroy());u.on('close',()=>c.destroy());` +
    `}).listen(${port},'127.0.0.1',()=>process.stdout.write('listening\\n'));`;
  return spawnNodeEval(src, `http://127.0.0.1:${port}`);
}

function merge(rs: LoadResult[]): LoadResult {
  return {
    ttftMs: rs.flatMap((r) => r.ttftMs),
    tokens: rs.reduce((a, r) => a + r.tokens, 0),
    requests: rs.reduce((a, r) => a + r.requests, 0),
    errors: rs.reduce((a, r) => a + r.errors, 0),
    wallMs: rs.reduce((a, r) => a + r.wallMs, 0),
  };
}

/** Runs a load phase while measuring the CPU seconds `pid` spends. */
async function measured(pid: number, run: () => Promise<LoadResult>): Promise<LoadResult & { cpuS: number }> {
  const cpu0 = processCpuSeconds(pid);
  const r = await run();
  return { ...r, cpuS: processCpuSeconds(pid) - cpu0 };
}

export async function benchRouter(): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'router-bench-'));
  const children: ChildHandle[] = [];
  const start = async <T extends ChildHandle>(p: Promise<T>): Promise<T> => {
    const c = await p;
    children.push(c);
    return c;
  };
  // Every figure here is CPU-bound; on a shared machine say how busy it was.
  const cores = os.availableParallelism();
  process.stderr.write(`  load average ${os.loadavg()[0]!.toFixed(1)} on ${cores} cores at start\n`);
  try {
    const rows: BenchRow[] = [];

    // 1. Added TTFT and per-token relay cost at 256 paced streams.
    const { engine, label } = await pacedEngine();
    children.push(engine);
    const traceFile = path.join(dir, 'traces.jsonl');
    const router = await start(spawnRouter(['--port', '0', '--mode', 'aggregated', '--worker', engine.url, '--trace-file', traceFile, '--log-level', 'warn']));
    const pipe = await start(tcpPipe(engine.url));
    const body = { model: 'bench-model', prompt: 'Benchmark prompt for the router overhead figure.', max_tokens: pacedTokens, stream: true, ignore_eos: true };
    const load = (url: string, durationMs = phaseMs) => closedLoop({ url, path: '/v1/completions', body, concurrency, durationMs });
    await load(engine.url, 1000);
    await load(router.url, 1000);
    await load(pipe.url, 1000);
    const direct: LoadResult[] = [];
    const routed: (LoadResult & { cpuS: number })[] = [];
    const piped: (LoadResult & { cpuS: number })[] = [];
    for (let i = 0; i < 2; i++) {
      direct.push(await load(engine.url));
      routed.push(await measured(router.pid, () => load(router.url)));
      piped.push(await measured(pipe.pid, () => load(pipe.url)));
    }
    const d = merge(direct);
    const r = merge(routed);
    const pp = merge(piped);
    const routerCpuS = routed.reduce((a, x) => a + x.cpuS, 0);
    const pipeCpuS = piped.reduce((a, x) => a + x.cpuS, 0);
    if (r.errors || d.errors || pp.errors) process.stderr.write(`  failed requests: direct ${d.errors}, router ${r.errors}, pipe ${pp.errors}\n`);
    for (const p of [50, 99]) {
      const dp = percentile(d.ttftMs, p);
      const rp = percentile(r.ttftMs, p);
      rows.push({
        figure: `router added TTFT p${p} (256 streams)`,
        value: rp - dp,
        unit: 'ms',
        goal: p === 50 ? '≤ 0.5 ms' : '≤ 2 ms',
        baseline: dp,
        baselineLabel: `TTFT p${p} of the same load straight to the ${label}`,
      });
    }
    rows.push({
      figure: `router relay cost, paced 256 streams (${Math.round(r.tokens / (r.wallMs / 1000))} tok/s)`,
      value: r.tokens / Math.max(routerCpuS, 0.01),
      unit: 'tokens/CPU-s',
      goal: 'informational',
      baseline: pp.tokens / Math.max(pipeCpuS, 0.01),
      baselineLabel: 'raw TCP pipe, same load',
    });
    await router.stop();
    const dispatchMs = fs
      .readFileSync(traceFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(parseRouterTraceLine)
      .filter((t) => t.status === 'ok' && t.decodeSentAtMs !== null)
      .map((t) => t.decodeSentAtMs! - t.arrivalAtMs);
    rows.push({
      figure: 'router dispatch p99 (arrival → upstream sent)',
      value: percentile(dispatchMs, 99),
      unit: 'ms',
      goal: 'informational',
      baseline: percentile(dispatchMs, 50),
      baselineLabel: 'p50, from router traces',
    });
    await Promise.all([engine.stop(), pipe.stop()]);

    // 2. Relay throughput with a zero-latency engine.
    const fast = await zeroLatencyEngine();
    children.push(fast.engine);
    const router2 = await start(spawnRouter(['--port', '0', '--mode', 'aggregated', '--worker', fast.engine.url, '--log-level', 'warn']));
    const pipe2 = await start(tcpPipe(fast.engine.url));
    const bulk = { model: 'bench-model', prompt: 'Relay throughput.', max_tokens: 4096, stream: true, ignore_eos: true };
    const bulkLoad = (url: string, durationMs = phaseMs) => closedLoop({ url, path: '/v1/completions', body: bulk, concurrency: 64, durationMs });
    await bulkLoad(router2.url, 1000);
    await bulkLoad(pipe2.url, 1000);
    const viaRouter = await measured(router2.pid, () => bulkLoad(router2.url));
    const viaPipe = await measured(pipe2.pid, () => bulkLoad(pipe2.url));
    const directFast = await bulkLoad(fast.engine.url);
    rows.push({
      figure: 'router relay, zero-latency engine, one core',
      value: viaRouter.tokens / Math.max(viaRouter.cpuS, 0.01),
      unit: 'tokens/CPU-s',
      goal: '≥ 100000',
      baseline: viaPipe.tokens / Math.max(viaPipe.cpuS, 0.01),
      baselineLabel: `raw TCP pipe, same load (${fast.label})`,
    });
    rows.push({
      figure: 'router relay wall throughput, zero-latency engine',
      value: viaRouter.tokens / (viaRouter.wallMs / 1000),
      unit: 'tokens/s',
      goal: 'informational',
      baseline: directFast.tokens / (directFast.wallMs / 1000),
      baselineLabel: `straight from the ${fast.label} (2 shared cores)`,
    });
    process.stderr.write(`  load average ${os.loadavg()[0]!.toFixed(1)} on ${cores} cores at end${os.loadavg()[0]! > cores ? ' (busier than its cores: latency figures are inflated)' : ''}\n`);
    return rows;
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
