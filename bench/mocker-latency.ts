/**
 * Mocker latency fidelity: under a closed-loop streaming load, client-measured TTFT and ITL match
 * what the latency model predicts (within 5%). The baseline column is the analytic expectation
 * computed from the same LatencyModel the engine uses, so the ratio is measured ÷ expected.
 */
import http from 'node:http';
import { findBuiltinModel, findGpuType } from '../common/model-config';
import { LatencyModel, defaultProfile, type LatencyProfile } from '../agents/mocker/latency-model';
import type { BenchRow } from './bench-row';
import { hostLoad, mean, median, startPinnedProcess, streamRequest } from './mocker-bench-support';
import { freePort, metricValue } from '../e2e/mocker-harness';

const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const PROFILE = { prefillTokensPerS: 20000, decodeBaseMs: 20, decodePerSeqMs: 0.5, decodePerCtxTokenUs: 2 };

function model(): LatencyModel {
  const m = findBuiltinModel(MODEL)!;
  const profile: LatencyProfile = { ...defaultProfile(m, findGpuType('H100-80GB')!, 16), ...PROFILE };
  return new LatencyModel(profile, m, 1, 16);
}

/** `clients` closed loops, each sending `perClient` requests one after another. */
async function closedLoop(port: number, clients: number, perClient: number, isl: number, osl: number, waves: boolean): Promise<{ ttftS: number[]; itlS: number[][] }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients + 4 });
  const ttftS: number[] = [];
  const itlS: number[][] = [];
  let seq = 0;
  const one = async (): Promise<void> => {
    const n = seq++;
    // Distinct first token per request: no prefix-cache hits, so every prefill is full length.
    const prompt = Array.from({ length: isl }, (_, i) => 300 + ((i + n * 7) % 5000));
    const r = await streamRequest(agent, port, '/v1/completions', JSON.stringify({ prompt, max_tokens: osl, ignore_eos: true, stream: true }), true);
    const t = r.eventTimesMs.slice(0, -1); // the last event is [DONE], written with the final chunk
    ttftS.push((t[0]! - r.sendAtMs) / 1000);
    itlS.push(t.slice(1).map((x, i) => (x - t[i]!) / 1000));
  };
  if (waves) {
    for (let w = 0; w < perClient; w++) await Promise.all(Array.from({ length: clients }, one));
  } else {
    await Promise.all(Array.from({ length: clients }, async () => {
      for (let i = 0; i < perClient; i++) await one();
    }));
  }
  agent.destroy();
  return { ttftS, itlS };
}

export async function benchMockerLatencyModel(): Promise<BenchRow[]> {
  const port = await freePort();
  const flags = ['--mocker-prefill-tokens-per-s', String(PROFILE.prefillTokensPerS), '--mocker-decode-base-ms', String(PROFILE.decodeBaseMs),
    '--mocker-decode-per-seq-ms', String(PROFILE.decodePerSeqMs), '--mocker-decode-per-ctx-token-us', String(PROFILE.decodePerCtxTokenUs)];
  const child = await startPinnedProcess([process.execPath, '--import', 'tsx', 'agents/main.ts', 'mocker', MODEL, '--port', String(port), '--max-model-len', '8192', '--disable-log-stats', ...flags], port);
  const lm = model();
  try {
    await closedLoop(port, 1, 1, 64, 4, false); // warm-up
    const isl1 = 1000;
    const osl1 = 24;
    const ttftMetric = async (): Promise<{ sum: number; count: number }> => ({
      sum: await metricValue(`http://127.0.0.1:${port}`, 'vllm:time_to_first_token_seconds_sum'),
      count: await metricValue(`http://127.0.0.1:${port}`, 'vllm:time_to_first_token_seconds_count'),
    });
    const before = await ttftMetric();
    const c1 = await closedLoop(port, 1, 8, isl1, osl1, false);
    const after = await ttftMetric();
    const serverTtft1 = (after.sum - before.sum) / (after.count - before.count);
    const expTtft1 = lm.stepSeconds(isl1, 0, 0);
    const expItl1 = mean(Array.from({ length: osl1 - 1 }, (_, k) => lm.decodeSeconds(1, isl1 + k + 1)));
    const isl8 = 200;
    const osl8 = 48;
    const c8 = await closedLoop(port, 8, 3, isl8, osl8, true);
    // Once a wave's prefills are done every step decodes all 8: use the median ITL past token 4.
    const itl8 = median(c8.itlS.flatMap((xs) => xs.slice(4)));
    const expItl8 = lm.decodeSeconds(8, 8 * (isl8 + Math.floor(osl8 / 2) + 2));
    const load = await hostLoad();
    const note = `model, load ${load.load1.toFixed(1)} on ${load.cores} cores`;
    return [
      { figure: 'mocker TTFT (engine-side, vllm:time_to_first_token_seconds), closed loop, 1 client, ISL 1000', value: serverTtft1 * 1e3, unit: 'ms', goal: 'ratio 0.95–1.05', baseline: expTtft1 * 1e3, baselineLabel: `analytic, latency ${note}` },
      { figure: 'mocker TTFT (client-side, incl. HTTP), closed loop, 1 client, ISL 1000', value: mean(c1.ttftS) * 1e3, unit: 'ms', goal: 'ratio 0.95–1.05 on an idle host', baseline: expTtft1 * 1e3, baselineLabel: `analytic, latency ${note}` },
      { figure: 'mocker ITL, closed loop, 1 client, OSL 24', value: mean(c1.itlS.flat()) * 1e3, unit: 'ms', goal: 'ratio 0.95–1.05', baseline: expItl1 * 1e3, baselineLabel: `analytic, latency ${note}` },
      { figure: 'mocker ITL (median), closed loop, 8 clients in waves, OSL 48', value: itl8 * 1e3, unit: 'ms', goal: 'ratio 0.95–1.05', baseline: expItl8 * 1e3, baselineLabel: `analytic, latency ${note}` },
    ];
  } finally {
    await child.stop();
  }
}
