/**
 * bench.* through the real agent daemon (bundle, attach over stdio, as the controller drives it
 * over SSH) against a mocker process: a run survives its client's connection dropping and is
 * fetched on reconnect; a daemon killed mid-run leaves a record the next daemon closes as partial;
 * malformed requests get clear errors.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { importArtifacts } from '../common/artifacts';
import type { BenchProgress } from '../common/bench-rpc';
import { RequestRecord, RunJson } from '../common/run-record';
import { HANDOFF_VERSION } from '../common/version';
import { readDaemonPid, spawnAttach, stopAllDaemonsIn, type LocalAttach } from '../agents/daemon/local-agent';
import { spawnMocker, type ChildHandle } from '../agents/router/test-processes';
import { buildAgentBundle } from '../build/agent-bundle';
import type { RpcClient } from '../common/rpc-client';

const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
let bundle: string;
let tmp: string;
let home: string;
let mocker: ChildHandle;
let env: NodeJS.ProcessEnv;
const attaches: LocalAttach[] = [];

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-daemon-'));
  home = path.join(tmp, 'home');
  bundle = await buildAgentBundle(path.join(tmp, 'handoff-agent.cjs'));
  // A fake nvidia-smi first on PATH: the host has "GPUs" to sample.
  const bin = path.join(tmp, 'bin');
  await fs.mkdir(bin);
  await fs.copyFile(path.resolve('e2e/harness/fake-nvidia-smi.sh'), path.join(bin, 'nvidia-smi'));
  await fs.chmod(path.join(bin, 'nvidia-smi'), 0o755);
  env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, FAKE_GPU_COUNT: '2' };
  mocker = await spawnMocker(MODEL, ['--max-model-len', '4096'], 60_000);
}, 120_000);

afterEach(() => {
  for (const a of attaches.splice(0)) a.child.kill('SIGKILL');
});

afterAll(async () => {
  await stopAllDaemonsIn(home);
  await mocker?.stop();
  await fs.rm(tmp, { recursive: true, force: true });
});

async function connect(): Promise<RpcClient> {
  const a = spawnAttach(bundle, home, { env });
  attaches.push(a);
  await a.client.hello(HANDOFF_VERSION);
  return a.client;
}

async function until<T>(what: string, fn: () => Promise<T | null>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every file of a run, fetched in small chunks to exercise the offset loop. */
async function fetchRun(client: RpcClient, runId: string): Promise<Map<string, Buffer>> {
  const manifest = await client.call('bench.fetch', { runId });
  const files = new Map<string, Buffer>();
  for (const f of manifest.files) {
    const parts: Buffer[] = [];
    let offset = 0;
    for (;;) {
      const r = await client.call('bench.fetch', { runId, path: f.path, offset, maxBytes: 64 * 1024 });
      const data = Buffer.from(r.chunk!.dataBase64, 'base64');
      parts.push(data);
      offset += data.length;
      if (r.chunk!.eof) break;
    }
    files.set(f.path, Buffer.concat(parts));
    expect(files.get(f.path)!.length).toBe(f.bytes);
  }
  return files;
}

const workload = (requestCount: number) => ({ model: MODEL, islMean: 256, oslMean: 48, exactOutput: true, concurrency: 2, requestCount, warmupRequestCount: 2, randomSeed: 5 });

describe('bench.* on the agent daemon', () => {
  it('finishes a run on the host after the client connection drops, and hands over the complete record on reconnect', async () => {
    const first = await connect();
    const progress: BenchProgress[] = [];
    first.onAgentNotification('bench.progress', (p) => progress.push(p));
    const started = await first.call('bench.start', {
      runId: 'drop-1',
      endpoint: mocker.url,
      simulated: true,
      workload: workload(24),
      metricsUrls: [{ source: 'worker', url: `${mocker.url}/metrics` }],
      sampleIntervalMs: 200,
    });
    expect(started.status.status).toBe('running');
    await until('profiling progress', async () => (progress.some((p) => p.phase === 'profiling' && p.done >= 2) ? true : null));
    // The SSH channel dies: the attach process is killed, the daemon keeps the run.
    attaches.pop()!.child.kill('SIGKILL');

    const second = await connect();
    const midway = await second.call('bench.status', { runId: 'drop-1' });
    expect(midway.runId).toBe('drop-1');
    const done = await until('the run to end', async () => {
      const s = await second.call('bench.status', { runId: 'drop-1' });
      return s.status === 'running' ? null : s;
    });
    expect(done).toMatchObject({ status: 'complete', phase: 'done', done: 24, total: 24, errors: 0, warmupDone: 2, cancelled: false });
    expect((await second.call('bench.list', {})).runs).toEqual(expect.arrayContaining([expect.objectContaining({ runId: 'drop-1', status: 'complete', tool: 'builtin', active: false })]));

    const files = await fetchRun(second, 'drop-1');
    const art = 'artifacts/meta-llama_Llama-3.1-8B-Instruct-openai-chat-concurrency2';
    expect([...files.keys()].sort()).toEqual(['progress.json', 'requests.jsonl', 'run.json', 'samples.jsonl', 'summary.json', `${art}/profile_export.json`, `${art}/profile_export_genai_perf.csv`, `${art}/profile_export_genai_perf.json`].sort());
    const run = RunJson.parse(JSON.parse(files.get('run.json')!.toString()));
    expect(run.status).toBe('complete');
    expect(run.artifacts.map((a) => a.kind)).toEqual(['perf-analyzer-profile-export', 'genai-perf-json', 'genai-perf-csv']);
    const records = files.get('requests.jsonl')!.toString().trim().split('\n').map((l) => RequestRecord.parse(JSON.parse(l)));
    expect(records.filter((r) => r.phase === 'profiling' && r.error === null && r.inputTokens === 256 && r.outputTokens.usage === 48)).toHaveLength(24);
    const samples = files.get('samples.jsonl')!.toString().trim().split('\n').map((l) => JSON.parse(l) as { kind: string; gpus?: unknown[] });
    expect(samples.some((s) => s.kind === 'prometheus')).toBe(true);
    expect(samples.some((s) => s.kind === 'gpu' && s.gpus!.length === 2)).toBe(true);
    const imported = importArtifacts([...files].filter(([p]) => p.startsWith(art)).map(([p, b]) => ({ name: p, text: b.toString() })));
    expect(imported.recomputed!.scalars.requestCount).toBe(24);
  }, 180_000);

  it('cancels a run mid-way and keeps its partial record', async () => {
    const client = await connect();
    await client.call('bench.start', { runId: 'cancel-1', endpoint: mocker.url, simulated: true, gpuTelemetry: false, workload: { ...workload(400), oslMean: 200 } });
    await until('profiling', async () => ((await client.call('bench.status', { runId: 'cancel-1' })).done >= 2 ? true : null));
    const s = await client.call('bench.cancel', { runId: 'cancel-1' });
    expect(s).toMatchObject({ status: 'partial', cancelled: true, phase: 'done' });
    expect(s.done).toBeLessThan(400);
    const run = RunJson.parse((await client.call('bench.fetch', { runId: 'cancel-1' })).runJson);
    expect(run.status).toBe('partial');
    expect(run.notes.join(' ')).toMatch(/Cancelled by the user/);
    // Idempotent: a second cancel describes the finished run.
    expect((await client.call('bench.cancel', { runId: 'cancel-1' })).status).toBe('partial');
  }, 120_000);

  it('answers malformed bench requests with errors that say what to change', async () => {
    const client = await connect();
    const fails = async (method: 'bench.start' | 'bench.fetch' | 'bench.status', params: unknown, re: RegExp) => {
      await expect(client.request(method, params)).rejects.toThrow(re);
    };
    await fails('bench.start', { runId: 'x', workload: { model: MODEL } }, /endpoint/);
    await fails('bench.start', { runId: '../escape', endpoint: mocker.url, workload: { model: MODEL } }, /runId.*letters, digits/);
    await fails('bench.start', { runId: 'bad-1', endpoint: mocker.url, workload: { model: MODEL, requestCount: 10, durationS: 5 } }, /request count or a duration, not both/);
    await fails('bench.start', { runId: 'bad-2', endpoint: mocker.url, workload: { model: MODEL, minTokens: 20, maxTokens: 10 } }, /min_tokens \(20\) is larger than max_tokens \(10\)/);
    await fails('bench.start', { runId: 'bad-3', endpoint: mocker.url, workload: { model: MODEL, concurrency: 0 } }, /concurrency/);
    await fails('bench.start', { runId: 'bad-4', endpoint: mocker.url, workload: { model: MODEL, islMeen: 5 } }, /islMeen/);
    await fails('bench.start', { runId: 'bad-5', endpoint: mocker.url, workload: { model: MODEL, arrival: 'poisson' } }, /only applies with a request rate/);
    await fails('bench.start', { runId: 'bad-6', endpoint: mocker.url, workload: { model: MODEL, slos: 'ttft:abc' } }, /is not an SLO/);
    await fails('bench.start', { runId: 'bad-7', endpoint: mocker.url, tool: 'locust', workload: { model: MODEL } }, /tool/);
    await fails('bench.start', { runId: 'bad-8', endpoint: mocker.url, clientCpus: '3-1', workload: { model: MODEL } }, /clientCpus.*runs backwards/);
    await fails('bench.start', { runId: 'bad-9', endpoint: mocker.url, clientCpus: '4000', workload: { model: MODEL } }, /Client CPUs 4000 are not available to the agent on this host, which may use CPUs \d/);
    await fails('bench.status', { runId: 'bad-9' }, /no run "bad-9"/);
    await fails('bench.start', { runId: 'drop-1', endpoint: mocker.url, workload: { model: MODEL } }, /already exists/);
    await fails('bench.status', { runId: 'never-ran' }, /no run "never-ran"/);
    await fails('bench.fetch', { runId: 'drop-1', path: '../../agent.pid' }, /has no file/);
    await fails('bench.fetch', { runId: 'drop-1', path: 'run.json', offset: 1e9 }, /past the end/);
    // A run whose endpoint is down fails with the reason in its record, not a crash.
    await client.call('bench.start', { runId: 'down-1', endpoint: 'http://127.0.0.1:9', gpuTelemetry: false, workload: { model: MODEL, requestCount: 2 } });
    const s = await until('the failed run', async () => {
      const st = await client.call('bench.status', { runId: 'down-1' });
      return st.status === 'running' ? null : st;
    });
    expect(s.status).toBe('failed');
    expect(s.error).toMatch(/Could not reach http:\/\/127\.0\.0\.1:9\/tokenize/);
    expect((await client.call('agent.ping', {})).pong).toBe(true);
  }, 60_000);

  it('closes a run as partial when the daemon running it was killed', async () => {
    const client = await connect();
    await client.call('bench.start', { runId: 'killed-1', endpoint: mocker.url, gpuTelemetry: false, workload: { ...workload(400), oslMean: 200 } });
    await until('profiling', async () => ((await client.call('bench.status', { runId: 'killed-1' })).done >= 1 ? true : null));
    const pid = (await readDaemonPid(home))!;
    process.kill(pid, 'SIGKILL');
    await until('the daemon to die', async () => {
      try {
        process.kill(pid, 0);
        return null;
      } catch {
        return true;
      }
    });
    const next = await connect();
    const s = await next.call('bench.status', { runId: 'killed-1' });
    expect(s.status).toBe('partial');
    const fetched = await next.call('bench.fetch', { runId: 'killed-1' });
    const run = RunJson.parse(fetched.runJson);
    expect(run.notes.join(' ')).toMatch(/agent stopped while this run was going on/);
    expect(fetched.files.map((f) => f.path)).toContain('requests.jsonl');
    const requests = Buffer.from((await next.call('bench.fetch', { runId: 'killed-1', path: 'requests.jsonl' })).chunk!.dataBase64, 'base64').toString();
    // Whatever reached the disk parses: no torn last line.
    for (const l of requests.split('\n').filter(Boolean)) RequestRecord.parse(JSON.parse(l));
  }, 120_000);
});
