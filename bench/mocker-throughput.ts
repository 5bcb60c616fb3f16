/**
 * Mocker throughput: with latencies scaled to zero, one mocker process pinned to one core holds
 * 2,000 concurrent streaming requests and streams ≥ 50,000 tokens/s. Baseline: a bare node:http
 * server streaming the same bytes the same way (bench/mocker-baseline-server.ts), in the same run.
 */
import http from 'node:http';
import type { BenchRow } from './bench-row';
import { cpuSecondsOf, hostLoad, startPinnedProcess, streamRequest } from './mocker-bench-support';
import { freePort } from '../e2e/mocker-harness';

const CONCURRENCY = 2000;
const OUTPUT_TOKENS = 300;

async function drive(port: number, agent: http.Agent, outputTokens: number, serverPid?: number): Promise<{ tokensPerS: number; maxOpen: number; tokens: number; tokensPerCpuS: number | null }> {
  const cpu0 = serverPid ? await cpuSecondsOf(serverPid) : null;
  const prompt = Array.from({ length: 32 }, (_, i) => 300 + i);
  let open = 0;
  let maxOpen = 0;
  const t0 = performance.now();
  const results = await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, i) => {
      // New connections open in bursts of 200, as load generators ramp up, so SYN queues do not
      // overflow; the measured run reuses the warm-up's keep-alive sockets and starts at once.
      if (Object.keys(agent.freeSockets).length === 0) await new Promise((r) => setTimeout(r, Math.floor(i / 200) * 5));
      return streamRequest(agent, port, '/v1/completions', JSON.stringify({ prompt: prompt.map((t) => t + (i % 50)), max_tokens: outputTokens, ignore_eos: true, stream: true }), false, () => {
        open++;
        maxOpen = Math.max(maxOpen, open);
      }).then((r) => {
        open--;
        return r;
      });
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  // Every token is one `data:` event; the final [DONE] is not a token.
  const tokens = results.reduce((a, r) => a + r.events - 1, 0);
  const cpu1 = serverPid ? await cpuSecondsOf(serverPid) : null;
  const tokensPerCpuS = cpu0 !== null && cpu1 !== null && cpu1 > cpu0 ? tokens / (cpu1 - cpu0) : null;
  return { tokensPerS: tokens / seconds, maxOpen, tokens, tokensPerCpuS };
}

export async function benchMockerThroughput(): Promise<BenchRow[]> {
  const mPort = await freePort();
  const bPort = await freePort();
  const mocker = await startPinnedProcess(
    [process.execPath, '--import', 'tsx', 'agents/main.ts', 'mocker', 'meta-llama/Llama-3.1-8B-Instruct', '--port', String(mPort), '--max-model-len', '4096',
      '--mocker-time-scale', '0', '--max-num-seqs', String(CONCURRENCY), '--max-num-batched-tokens', '65536', '--disable-log-stats'],
    mPort,
  );
  let m: Awaited<ReturnType<typeof drive>>;
  try {
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY + 16, maxFreeSockets: CONCURRENCY + 16 });
    await drive(mPort, agent, 4); // warm-up: JIT, and 2,000 open keep-alive connections
    m = await drive(mPort, agent, OUTPUT_TOKENS, mocker.proc.pid);
    agent.destroy();
  } finally {
    await mocker.stop();
  }
  const baseline = await startPinnedProcess([process.execPath, '--import', 'tsx', 'bench/mocker-baseline-server.ts', String(bPort)], bPort);
  let b: Awaited<ReturnType<typeof drive>>;
  try {
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY + 16, maxFreeSockets: CONCURRENCY + 16 });
    await drive(bPort, agent, 4);
    b = await drive(bPort, agent, OUTPUT_TOKENS, baseline.proc.pid);
    agent.destroy();
  } finally {
    await baseline.stop();
  }
  const load = await hostLoad();
  if (m.tokens !== CONCURRENCY * OUTPUT_TOKENS) throw new Error(`mocker streamed ${m.tokens} tokens, expected ${CONCURRENCY * OUTPUT_TOKENS}`);
  return [
    { figure: 'mocker streaming tokens/s, 2,000 streams, zero latency, 1 core', value: m.tokensPerS, unit: 'tokens/s', goal: '≥ 50,000', baseline: b.tokensPerS, baselineLabel: 'bare node:http streaming the same bytes' },
    // Tokens per CPU-second of the server process: what one dedicated core would stream, whatever else runs here.
    { figure: 'mocker tokens per server CPU-second (1 core ⇒ tokens/s)', value: m.tokensPerCpuS ?? NaN, unit: 'tokens/CPU-s', goal: '≥ 50,000', baseline: b.tokensPerCpuS, baselineLabel: 'bare node:http streaming the same bytes' },
    { figure: 'mocker concurrent open streams', value: m.maxOpen, unit: 'streams', goal: '≥ 2,000', baseline: b.maxOpen, baselineLabel: 'bare node:http server' },
    // Both processes share the machine with whatever else runs: figures are only comparable at low load.
    { figure: 'host 1-minute load average during the mocker bench', value: load.load1, unit: 'runnable', goal: `≤ ${load.cores} (cores) for trustworthy figures`, baseline: null, baselineLabel: '-' },
  ];
}
