/**
 * Import of a 100,000-request AIPerf profile_export.jsonl (issue 6, "Figures": < 3 s). The file is
 * synthetic but has the schema of the v0.1.0-dev-run1 fixture (pre-release metadata, ttft/ttst
 * tags, reasoning split, inter_chunk_latency lists), with the seed workload's 150 output tokens
 * per request and 10% cancelled requests. The baseline is JSON.parse of the same lines and nothing
 * else, the floor any importer pays. Both start from the file's text already in memory. CPU time
 * is printed too: on a shared 2-core machine wall time mostly measures the other processes.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { importArtifacts } from '../common/artifacts';
import type { BenchRow } from './bench-row';

const RECORDS = 100_000;
const OSL = 150;

/** Deterministic PRNG so every run parses the same bytes. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const uuid = (rnd: () => number) => Array.from({ length: 32 }, () => Math.floor(rnd() * 16).toString(16)).join('').replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');

export function syntheticAiperfJsonl(records = RECORDS, seed = 123): string {
  const rnd = mulberry32(seed);
  // Epoch ns as in the fixture; a double holds them to 256 ns, as JSON.parse does when importing.
  const t0 = 1_759_522_419_154_568_960;
  const lines: string[] = [];
  for (let i = 0; i < records; i++) {
    const start = t0 + i * 1_000_000 + Math.floor(rnd() * 1000);
    const metadata = {
      x_request_id: uuid(rnd), x_correlation_id: uuid(rnd), conversation_id: uuid(rnd), turn_index: 0,
      timestamp_ns: start, worker_id: `worker_${uuid(rnd).slice(0, 8)}`, record_processor_id: `record_processor_${uuid(rnd).slice(0, 8)}`, credit_phase: 'profiling',
    };
    if (i % 10 === 3) {
      lines.push(JSON.stringify({ metadata, metrics: { error_request_count: { value: 1, unit: 'requests' } }, error: { code: 499, type: 'RequestCancellationError', message: 'Request was cancelled after 0.000 seconds' } }));
      continue;
    }
    const ttft = 50 + rnd() * 200;
    const icl = Array.from({ length: OSL - 1 }, () => Math.round((15 + rnd() * 10) * 1e6) / 1e6);
    const latency = ttft + icl.reduce((a, b) => a + b, 0);
    const reasoning = Math.floor(rnd() * OSL);
    const itl = (latency - ttft) / (OSL - 1);
    lines.push(JSON.stringify({
      metadata,
      metrics: {
        input_sequence_length: { value: 3000, unit: 'tokens' },
        ttft: { value: ttft, unit: 'ms' },
        request_count: { value: 1, unit: 'requests' },
        request_latency: { value: latency, unit: 'ms' },
        min_request_timestamp: { value: start, unit: 'ns' },
        output_token_count: { value: OSL - reasoning, unit: 'tokens' },
        reasoning_token_count: { value: reasoning, unit: 'tokens' },
        ttst: { value: icl[0], unit: 'ms' },
        inter_chunk_latency: { value: icl, unit: 'ms' },
        output_sequence_length: { value: OSL, unit: 'tokens' },
        max_response_timestamp: { value: start + Math.round(latency * 1e6), unit: 'ns' },
        inter_token_latency: { value: itl, unit: 'ms' },
        output_token_throughput_per_user: { value: 1000 / itl, unit: 'tokens/sec/user' },
      },
      error: null,
    }));
  }
  return lines.join('\n') + '\n';
}

function best(times: number[]): number {
  return Math.min(...times);
}

export async function benchImportAiperf(): Promise<BenchRow[]> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'handoff-bench-aiperf-'));
  try {
    const file = path.join(dir, 'profile_export.jsonl');
    await fs.writeFile(file, syntheticAiperfJsonl());
    const text = await fs.readFile(file, 'utf8');
    const mb = Buffer.byteLength(text) / 1e6;
    const importS: number[] = [];
    const parseS: number[] = [];
    const importCpuS: number[] = [];
    const parseCpuS: number[] = [];
    const cpuS = (since: NodeJS.CpuUsage) => {
      const d = process.cpuUsage(since);
      return (d.user + d.system) / 1e6;
    };
    let requests = 0;
    for (let round = 0; round < 2; round++) {
      let t = performance.now();
      let c = process.cpuUsage();
      const lines = text.split('\n');
      let parsed = 0;
      for (const l of lines) if (l) parsed += JSON.parse(l) ? 1 : 0;
      parseS.push((performance.now() - t) / 1000);
      parseCpuS.push(cpuS(c));
      if (parsed !== RECORDS) throw new Error(`baseline parsed ${parsed} records`);
      t = performance.now();
      c = process.cpuUsage();
      const run = importArtifacts([{ name: 'profile_export.jsonl', text }]);
      importS.push((performance.now() - t) / 1000);
      importCpuS.push(cpuS(c));
      requests = run.requests?.length ?? 0;
      if (run.recomputed?.scalars.requestCount !== RECORDS * 0.9) throw new Error('import lost records');
    }
    const figure = `import AIPerf jsonl, ${requests.toLocaleString('en')} requests (${mb.toFixed(0)} MB)`;
    return [
      { figure, value: best(importS), unit: 's', goal: '< 3 s', baseline: best(parseS), baselineLabel: 'JSON.parse of each line only' },
      { figure: `${figure}, CPU time`, value: best(importCpuS), unit: 's CPU', goal: '< 3 s', baseline: best(parseCpuS), baselineLabel: 'JSON.parse of each line only' },
    ];
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
