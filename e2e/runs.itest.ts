import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importArtifacts } from '../common/artifacts';
import { Comparison, type GroupComparison, type RunComparison } from '../common/compare';
import { LOCAL_HOST_NAME } from '../common/host';
import { RunJson } from '../common/run-record';
import { BenchTaskResult, ImportReport, RunDetail, RunSummary, StartRunResult } from '../common/run-view';
import { createController, type Controller } from '../electron/control/controller';
import { runCli } from './harness/cli';
import { agentArtifactsForTests, startControllerFixture, type ControllerFixture } from './harness/controller-fixture';
import { exampleSpec, freePortRun } from './harness/deploy-specs';

/**
 * Runs end to end: `handoff import` of every fixture through the real CLI (with a store of its
 * own), and benchmarks of mocker deployments on this computer through the real controller, agent
 * daemon, router and load generator — the seed preset scaled down to fit a 2-core machine (fewer
 * requests, shorter prompts; the preset itself is unchanged), a sweep and comparison of aggregated
 * against disaggregated, and runs that outlive a dropped connection or a closed controller.
 */

const REPO = path.resolve(import.meta.dirname, '..');
const FIXTURES = path.join(REPO, 'e2e/fixtures/bench-artifacts');

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return fs.statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}
/** Each CLI start costs seconds (tsx), and more on a busy machine. */
const CLI_TIMEOUT_MS = 300_000;
const isArtifact = (p: string) => !/README\.(txt|md)$|\.gitattributes$/.test(p);

/** Every file below a run store, as text, for secret scans. */
function allText(dir: string): string {
  return filesUnder(dir)
    .map((f) => fs.readFileSync(f, 'utf8'))
    .join('\n');
}

describe('handoff import, runs and compare (CLI)', () => {
  let home: string;
  let env: Record<string, string>;
  const cli = (...args: string[]) => runCli(args, env);
  const runDirs = () => (fs.existsSync(path.join(home, 'runs')) ? fs.readdirSync(path.join(home, 'runs')).filter((n) => !n.startsWith('.')) : []);

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-runs-cli-'));
    // A bundle built once: without it every CLI start checks (and may rebuild) the agent bundle.
    const { bundlePath } = await agentArtifactsForTests();
    env = { HANDOFF_HOME: home, HOME: path.join(home, 'user'), HANDOFF_AGENT_HOME: path.join(home, 'agent'), HANDOFF_AGENT_BUNDLE: bundlePath };
  }, 120_000);
  afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

  it.each(filesUnder(FIXTURES).filter(isArtifact).map((p) => [path.relative(FIXTURES, p)]))('imports the fixture %s on its own', async (rel) => {
    const r = await cli('import', path.join(FIXTURES, rel), '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { runs: RunSummary[]; reports: ImportReport[] };
    expect(out.runs).toHaveLength(1);
    const run = RunSummary.parse(out.runs[0]);
    expect(run).toMatchObject({ status: 'complete', imported: true, location: 'local' });
    expect(run.headline?.requestCount).toBeGreaterThan(0);
    const stored = RunJson.parse(JSON.parse(fs.readFileSync(path.join(home, 'runs', run.id, 'run.json'), 'utf8')));
    expect(stored.artifacts.map((a) => a.path)).toContain(`artifacts/${path.basename(rel)}`);
  }, CLI_TIMEOUT_MS);

  it('imports the whole fixture tree in one command, one run per run directory, and the AIPerf records recompute to its CSV', async () => {
    const before = runDirs().length;
    const r = await cli('import', FIXTURES, '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { runs: RunSummary[]; reports: ImportReport[] };
    // aiperf/, aiperf/2026-dev-smoke-100k, aiperf/v0.1.0-dev-run1, genai-perf/, and the renamed perf_analyzer example on its own.
    expect(out.reports.map((x) => path.relative(FIXTURES, x.sources[0]!)).sort()).toEqual(['aiperf', 'aiperf/2026-dev-smoke-100k', 'aiperf/v0.1.0-dev-run1', 'genai-perf', 'genai-perf/perf_analyzer_profile_export_doc_example.json']);
    expect(runDirs().length).toBe(before + 5);
    const dev = out.reports.find((x) => x.sources[0]!.endsWith('v0.1.0-dev-run1'))!;
    expect(dev).toMatchObject({ tool: 'aiperf', recordCount: 100, comparedCount: 131, disagreements: [] });

    const show = await cli('runs', 'show', dev.runId);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('131 of 131 reported figures agree with the recomputation');
    expect(show.stdout).toMatch(/Time to first token\s+ms\s+2,343/);

    const list = await cli('runs', '--json');
    const runs = (JSON.parse(list.stdout) as unknown[]).map((x) => RunSummary.parse(x));
    expect(runs.find((x) => x.id === dev.runId)?.headline).toMatchObject({ requestCount: 89, errorCount: 11 });
  }, CLI_TIMEOUT_MS);

  it('refuses truncated and garbage files with a message naming the file, and stores nothing', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-bad-artifacts-'));
    try {
      const jsonl = fs.readFileSync(path.join(FIXTURES, 'aiperf/v0.1.0-dev-run1/profile_export.jsonl'), 'utf8');
      fs.writeFileSync(path.join(tmp, 'profile_export.jsonl'), jsonl.slice(0, Math.floor(jsonl.length / 2)));
      const gp = fs.readFileSync(path.join(FIXTURES, 'genai-perf/profile_export_genai_perf.json'), 'utf8');
      fs.writeFileSync(path.join(tmp, 'cut_genai_perf.json'), gp.slice(0, 3000));
      fs.writeFileSync(path.join(tmp, 'noise.json'), '{"hello": "world", "n": [1, 2, 3]}');
      fs.writeFileSync(path.join(tmp, 'blob.bin'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1, 2]));
      const before = runDirs();
      const cases: Array<[string[], RegExp]> = [
        [[path.join(tmp, 'profile_export.jsonl')], /profile_export\.jsonl, line \d+: .*truncated.*Nothing was imported\./],
        [[path.join(tmp, 'cut_genai_perf.json')], /cut_genai_perf\.json ends in the middle of its JSON.*Nothing was imported\./],
        [[path.join(tmp, 'noise.json')], /noise\.json is not a benchmark result Handoff can import: JSON, but not in any benchmark result layout/],
        [[path.join(tmp, 'blob.bin')], /blob\.bin is a binary file, not a benchmark result/],
        [[path.join(tmp, 'missing.json')], /Cannot read .*missing\.json: no such file or directory/],
        // A good directory and a bad file together: nothing of either is stored.
        [[path.join(FIXTURES, 'aiperf/v0.1.0-dev-run1'), path.join(tmp, 'cut_genai_perf.json')], /cut_genai_perf\.json.*Nothing was imported\./],
      ];
      for (const [args, message] of cases) {
        const r = await cli('import', ...args);
        expect(r.code, args.join(' ')).toBe(1);
        expect(r.stderr, args.join(' ')).toMatch(message);
        expect(r.stdout).toBe('');
      }
      expect(runDirs()).toEqual(before);
      expect(fs.readdirSync(path.join(home, 'runs')).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }, CLI_TIMEOUT_MS);

  it('keeps no planted secret in the stored run: not in the results, the companions, the workload or the notes', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-secret-artifacts-'));
    const secrets = ['sk-live-0123456789abcdefABCDEF', 'hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345', 'Zm9vYmFyYmF6cXV4LXNlY3JldC10b2tlbg', 'nvapi-SECRETSECRETSECRET0123456789'];
    try {
      const gp = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'genai-perf/profile_export_genai_perf.json'), 'utf8')) as { input_config: Record<string, unknown> };
      gp.input_config.api_key = secrets[0];
      gp.input_config.headers = [`Authorization: Bearer ${secrets[2]}`];
      gp.input_config.url = `https://user:${secrets[3]}@gpu.example.com:8000/v1?api_key=${secrets[3]}`;
      fs.writeFileSync(path.join(tmp, 'profile_export_genai_perf.json'), JSON.stringify(gp, null, 2));
      fs.writeFileSync(path.join(tmp, 'inputs.json'), JSON.stringify({ data: [{ payload: [{ headers: { Authorization: `Bearer ${secrets[2]}` } }] }] }));
      fs.writeFileSync(path.join(tmp, 'genai_perf.log'), `HF_TOKEN=${secrets[1]}\ngenai-perf profile --api-key ${secrets[0]} -m model\n`);
      const r = await cli('import', tmp, '--json');
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { runs: RunSummary[]; reports: ImportReport[] };
      const dir = path.join(home, 'runs', out.runs[0]!.id);
      expect(fs.readdirSync(path.join(dir, 'artifacts')).sort()).toEqual(['genai_perf.log', 'inputs.json', 'profile_export_genai_perf.json']);
      const stored = allText(dir);
      for (const s of secrets) expect(stored).not.toContain(s);
      expect(stored).toContain('[redacted]');
      const show = await cli('runs', 'show', out.runs[0]!.id, '--json');
      for (const s of secrets) expect(show.stdout).not.toContain(s);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }, CLI_TIMEOUT_MS);

  it('says exactly how two imported runs differ in workload and gives no verdict for them', async () => {
    const a = JSON.parse((await cli('import', path.join(FIXTURES, 'aiperf/v0.1.0-dev-run1'), '--json')).stdout) as { runs: RunSummary[] };
    const b = JSON.parse((await cli('import', path.join(FIXTURES, 'aiperf/profile_export_aiperf.json'), '--json')).stdout) as { runs: RunSummary[] };
    const r = await cli('compare', a.runs[0]!.id, b.runs[0]!.id, '--gpus-a', '1', '--gpus-b', '1', '--json');
    expect(r.code, r.stderr).toBe(0);
    const c = Comparison.parse(JSON.parse(r.stdout)) as RunComparison;
    expect(c.verdict.outcome).toBe('not-comparable');
    expect(c.workload.differences.filter((d) => d.blocking).map((d) => d.label)).toContain('measured mean OSL');
    expect(c.verdict.sentence).toMatch(/^not comparable: the workloads differ — .*measured mean OSL 242\.97 vs /);
    const text = await cli('compare', a.runs[0]!.id, b.runs[0]!.id, '--gpus-a', '1', '--gpus-b', '1');
    expect(text.stdout.split('\n')[0]).toBe(c.verdict.sentence);
    expect(text.stdout).toMatch(/\* Output tokens\/s per GPU/);
  }, CLI_TIMEOUT_MS);

  it('never lists a half-written run, and lists a damaged one as damaged', async () => {
    const runs = path.join(home, 'runs');
    // A run being written by a process that is gone, and a run directory whose run.json was lost.
    fs.mkdirSync(path.join(runs, '.tmp-run-20200101-000000-dead-999999-0badf00d'), { recursive: true });
    fs.writeFileSync(path.join(runs, '.tmp-run-20200101-000000-dead-999999-0badf00d', 'requests.jsonl'), '{"sendNs":');
    fs.mkdirSync(path.join(runs, 'run-20200101-000000-beef'));
    fs.writeFileSync(path.join(runs, 'run-20200101-000000-beef', 'requests.jsonl'), '');
    const r = await cli('runs', '--json');
    const list = (JSON.parse(r.stdout) as unknown[]).map((x) => RunSummary.parse(x));
    expect(list.some((x) => x.id.includes('dead'))).toBe(false);
    const damaged = list.find((x) => x.id === 'run-20200101-000000-beef')!;
    expect(damaged.status).toBe('damaged');
    expect(damaged.problem).toMatch(/run\.json is missing: the run directory is incomplete/);
    const text = await cli('runs');
    expect(text.stdout).toMatch(/run-20200101-000000-beef\s+damaged/);
    expect((await cli('runs', 'delete', 'run-20200101-000000-beef')).code).toBe(0);
  }, CLI_TIMEOUT_MS);
});

// ---------------------------------------------------------------- benchmarks on mocker deployments

/** The seed preset made small for a 2-core machine: same shape, shorter prompts and answers, fewer requests. */
const SMALL_SEED = { preset: 'seed' as const, islMean: 256, oslMean: 16, minTokens: 16, maxTokens: 16, requestCount: 12, warmupRequestCount: 2 };

async function aggregatedSpec(): Promise<string> {
  const spec = YAML.parse(fs.readFileSync(path.join(REPO, 'examples/mocker-monolithic.yaml'), 'utf8')) as { workers: Array<{ port?: number; gpus?: number[] }>; router: { port: number } };
  const base = await freePortRun(2);
  spec.workers[0]!.port = base;
  // GPU ids are simulated; 3 keeps clear of the disaggregated example's 0–2 on the same host.
  spec.workers[0]!.gpus = [3];
  spec.router.port = base + 1;
  return YAML.stringify(spec);
}

describe('benchmarks of mocker deployments on this computer', () => {
  let fx: ControllerFixture;
  let disId: string;
  let aggId: string;
  /** The controller started after the first one closed (last test). */
  let second: Controller | null = null;
  const call = async <T>(method: string, params: unknown): Promise<T> => (await fx.controller.handle(method, params)) as T;

  async function runTask(method: 'runs.start' | 'runs.sweep', params: unknown) {
    const started = StartRunResult.parse(await call(method, params));
    const t = await fx.finish(started.task);
    expect(t.error, JSON.stringify(t.error)).toBeUndefined();
    expect(t.state).toBe('succeeded');
    return { started, result: BenchTaskResult.parse(t.result) };
  }

  beforeAll(async () => {
    fx = await startControllerFixture();
    const dis = await exampleSpec({ prefill: LOCAL_HOST_NAME, decode: LOCAL_HOST_NAME });
    for (const [text, set] of [
      [dis.text, (id: string) => (disId = id)],
      [await aggregatedSpec(), (id: string) => (aggId = id)],
    ] as const) {
      const { deployment, task } = await fx.controller.deployments.apply({ specText: text });
      set(deployment.id);
      const t = await fx.finish(task);
      expect(t.state, JSON.stringify(t.error)).toBe('succeeded');
    }
  }, 300_000);

  afterAll(async () => {
    const live = second ?? fx?.controller;
    for (const id of [disId, aggId]) if (id && live) await live.deployments.teardown(id).catch(() => undefined);
    await second?.close();
    await fx?.close();
  }, 120_000);

  it('runs the seed preset (scaled down) on the disaggregated deployment and writes GenAI-Perf artifacts that import back to the same numbers', async () => {
    const { result } = await runTask('runs.start', { deployment: disId, workload: SMALL_SEED });
    const id = result.runIds[0]!;
    const detail = RunDetail.parse(await call('runs.get', { id }));
    expect(detail.summary).toMatchObject({ status: 'complete', simulated: true, location: 'local', tool: 'builtin' });
    expect(detail.summary.deployment).toMatchObject({ mode: 'disaggregated', engine: 'mocker', gpuCount: 3 });
    expect(detail.run!.workload).toMatchObject({ concurrency: 10, requestCount: 12, warmupRequestCount: 2, islMean: 256, oslMean: 16, randomSeed: 123, streaming: true, endpointType: 'chat' });
    expect(detail.metrics!.scalars.requestCount).toBe(12);
    expect(detail.metrics!.scalars.errorCount).toBe(0);
    expect(detail.metrics!.distributions.osl!.avg).toBe(16);

    const layout = detail.files.map((f) => f.path).filter((p) => p.startsWith('artifacts/'));
    const names = layout.map((p) => path.basename(p)).sort();
    expect(names).toEqual(['profile_export.json', 'profile_export_genai_perf.csv', 'profile_export_genai_perf.json']);
    // The importer reads the genai-perf layout back: per-request records recompute to the run's own
    // metrics, and the summary it wrote agrees with them. Two known gaps are tolerated and reported:
    // epoch nanoseconds in profile_export.json are JSON numbers (rounded to 256 ns, so sub-µs
    // figures move), and its ISL is the server's prompt count (chat template included).
    const files = layout.map((p) => ({ name: path.basename(p), text: fs.readFileSync(path.join(detail.dir!, p), 'utf8') }));
    const back = importArtifacts(files);
    expect(back.tool).toBe('genai-perf');
    expect(back.comparedCount).toBeGreaterThan(50);
    // 256 ns on an ITL of a few µs (the mocker can send several tokens back to back) is up to a few
    // tenths of a percent of TPS/user; everything else must agree within 1 µs.
    const beyondRounding = (ds: ReadonlyArray<{ metric: string; reported: number; recomputed: number; relDiff: number | null }>) =>
      ds.filter((d) => d.metric !== 'isl' && !(d.metric === 'tpsPerUser' && Math.abs(d.relDiff ?? 1) < 0.01) && Math.abs(d.recomputed - d.reported) > 1e-3 + 1e-4 * Math.abs(d.reported));
    expect(beyondRounding(back.disagreements)).toEqual([]);
    const mine = detail.metrics!;
    const theirs = back.recomputed!;
    const reported = back.reported!;
    expect(theirs.scalars.requestCount).toBe(mine.scalars.requestCount);
    for (const [k, stat] of [['ttftMs', 'p50'], ['ttftMs', 'p99'], ['itlMs', 'p50'], ['requestLatencyMs', 'avg'], ['osl', 'avg']] as const) {
      expect(theirs.distributions[k]![stat], `${k} ${stat}`).toBeCloseTo(mine.distributions[k]![stat]!, 3);
      expect(reported.distributions[k]![stat], `${k} ${stat} as written`).toBeCloseTo(mine.distributions[k]![stat]!, 6);
    }
    expect(reported.distributions.isl!.avg).toBe(mine.distributions.isl!.avg);
    expect(theirs.scalars.outputTokenThroughputPerS).toBeCloseTo(mine.scalars.outputTokenThroughputPerS!, 3);
    expect(reported.scalars.outputTokenThroughputPerS).toBeCloseTo(mine.scalars.outputTokenThroughputPerS!, 6);

    // And through the user's door: `runs.import` of that artifact directory.
    const imp = (await call('runs.import', { paths: [path.join(detail.dir!, path.dirname(layout[0]!))] })) as { runs: RunSummary[]; reports: ImportReport[] };
    // GenAI-Perf's per-request export holds the profiling requests only.
    expect(imp.reports[0]).toMatchObject({ tool: 'genai-perf', recordCount: 12 });
    expect(beyondRounding(imp.reports[0]!.disagreements)).toEqual([]);
    expect(imp.runs[0]!.headline!.ttftP50Ms).toBeCloseTo(detail.summary.headline!.ttftP50Ms!, 3);
  }, 300_000);

  it('sweeps aggregated and disaggregated over two concurrencies and compares them with a verdict', async () => {
    const workload = { ...SMALL_SEED, requestCount: 8, warmupRequestCount: 1 };
    const agg = await runTask('runs.sweep', { deployment: aggId, workload, concurrencies: [1, 4] });
    const dis = await runTask('runs.sweep', { deployment: disId, workload, concurrencies: [1, 4] });
    expect(agg.result.group).toMatch(/^sweep-/);
    expect(agg.result.runs.map((r) => r.loadPoint)).toEqual(['concurrency 1', 'concurrency 4']);
    expect(agg.result.runs.every((r) => r.group === agg.result.group && r.status === 'complete')).toBe(true);

    const c = Comparison.parse(await call('runs.compare', { a: agg.result.group, b: dis.result.group })) as GroupComparison;
    expect(c.kind).toBe('groups');
    expect(c.workload.same).toBe(true);
    expect(c.points.map((p) => p.loadPoint)).toEqual(['concurrency 1', 'concurrency 4']);
    expect(c.verdict.outcome).not.toBe('not-comparable');
    expect(c.verdict.subject).toBe('disaggregated');
    expect(c.verdict.sentence).toMatch(/^disaggregated over concurrency 1, 4: output tokens\/s\/GPU [−+0-9%…]+, TTFT p99 .*— (better|worse|mixed|no significant difference) for this workload.*\(simulated: mocker engine\)$/);
    // Per GPU: the aggregated deployment has 1 GPU, the disaggregated one 3.
    const perGpu = c.points[0]!.metrics.find((m) => m.metric === 'outputTokensPerSPerGpu')!;
    const tok = c.points[0]!.metrics.find((m) => m.metric === 'outputTokenThroughputPerS')!;
    expect(perGpu.a).toBeCloseTo(tok.a!, 6);
    expect(perGpu.b).toBeCloseTo(tok.b! / 3, 6);
    console.log(`verdict: ${c.verdict.sentence}`);
    for (const p of c.points) console.log(`  ${p.loadPoint}: ${p.verdict.sentence}`);

    // The same comparison through the CLI, against this controller's store.
    const r = await runCli(['compare', agg.result.group!, dis.result.group!], { HANDOFF_HOME: fx.home, HOME: fx.userHome, HANDOFF_AGENT_HOME: path.join(fx.home, 'local-agent') });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(c.verdict.sentence);
  }, 600_000);

  it('runs a sweep from the CLI with live progress, lists it, and refuses bad flags with usage errors', async () => {
    const env = { HANDOFF_HOME: fx.home, HOME: fx.userHome, HANDOFF_AGENT_HOME: path.join(fx.home, 'local-agent'), HANDOFF_AGENT_BUNDLE: (await agentArtifactsForTests()).bundlePath };
    const r = await runCli(['bench', disId, '--preset', 'seed', '--isl', '128', '--osl', '8', '--requests', '4', '--warmup', '0', '--concurrency', '1,2', '--name', 'cli sweep'], env, 300_000);
    expect(r.code, r.stderr).toBe(0);
    const ids = r.stdout.trim().split('\n');
    expect(ids).toHaveLength(2);
    expect(r.stderr).toMatch(/^Sweep mocker-disaggregated over concurrency 1, 2: sweep sweep-\S+, runs run-\S+, run-\S+$/m);
    expect(r.stderr).toMatch(/… Concurrency 1 \(run-\S+\) — \d+\/4 requests/);
    expect(r.stderr).toMatch(/✓ Concurrency 2 \(run-\S+\) — complete · 4 requests/);
    const list = (JSON.parse((await runCli(['runs', '--json'], env)).stdout) as unknown[]).map((x) => RunSummary.parse(x));
    const mine = list.filter((x) => ids.includes(x.id));
    expect(mine.map((x) => [x.name, x.status, x.workload.islMean, x.workload.oslMean])).toEqual([
      ['cli sweep · concurrency 2', 'complete', 128, 8],
      ['cli sweep · concurrency 1', 'complete', 128, 8],
    ]);
    for (const [args, message] of [
      [['--concurrency', '1,x'], /--concurrency expects whole numbers > 0 separated by commas/],
      [['--concurrency', '1,2', '--rate', '1,2'], /Sweep over --concurrency or over --rate, not both/],
      [['--tool', 'locust'], /--tool must be builtin, genai-perf or aiperf/],
      [['--preset', 'fast'], /Unknown preset "fast"/],
      [['--client-cpus', '3-1'], /--client-cpus: the range 3-1 runs backwards/],
    ] as const) {
      const bad = await runCli(['bench', disId, ...args], env);
      expect(bad.code, `${args.join(' ')}: ${bad.stderr}`).toBe(2);
      expect(bad.stderr).toMatch(message);
    }
    const nope = await runCli(['bench', 'no-such-deployment', '--preset', 'seed'], env);
    expect(nope.code).toBe(1);
    expect(nope.stderr).toMatch(/no-such-deployment/);
  }, 600_000);

  it('cancels a run on its host and keeps what it recorded as a partial run', async () => {
    const started = StartRunResult.parse(await call('runs.start', { deployment: disId, workload: { ...SMALL_SEED, oslMean: 64, minTokens: 64, maxTokens: 64, requestCount: 40, concurrency: 2, warmupRequestCount: 0 } }));
    const id = started.runIds[0]!;
    await new Promise<void>((resolve) => {
      const onTask = (t: { id: string; steps: Array<{ detail?: string }> }) => {
        if (t.id === started.task.id && /^[1-9]\d*\/40 requests/.test(t.steps.at(-1)?.detail ?? '')) {
          fx.controller.tasks.off('updated', onTask);
          resolve();
        }
      };
      fx.controller.tasks.on('updated', onTask);
    });
    await call('runs.cancel', { id });
    const t = await fx.finish(started.task);
    expect(t.state).toBe('cancelled');
    const s = RunSummary.parse((await call<RunSummary[]>('runs.list', {})).find((r) => r.id === id));
    expect(s).toMatchObject({ status: 'partial', location: 'local' });
    expect(s.headline!.requestCount).toBeGreaterThan(0);
    expect(s.headline!.requestCount).toBeLessThan(40);
  }, 300_000);

  it('keeps following a run when the connection to the agent drops: it finishes on the host and is collected after reconnecting', async () => {
    const started = StartRunResult.parse(await call('runs.start', { deployment: disId, workload: { ...SMALL_SEED, oslMean: 64, minTokens: 64, maxTokens: 64, requestCount: 16, concurrency: 2, warmupRequestCount: 0 } }));
    const id = started.runIds[0]!;
    let dropped = false;
    const lostSeen: string[] = [];
    const onTask = (t: { id: string; steps: Array<{ detail?: string }> }) => {
      if (t.id !== started.task.id) return;
      const detail = t.steps.at(-1)?.detail ?? '';
      if (/connection to .* lost|cannot reach/.test(detail)) lostSeen.push(detail);
      if (!dropped && /^\d+\/16 requests/.test(detail) && !/^0\//.test(detail)) {
        dropped = true;
        fx.controller.hosts.disconnect(LOCAL_HOST_NAME);
      }
    };
    fx.controller.tasks.on('updated', onTask);
    try {
      const t = await fx.finish(started.task);
      expect(t.state, JSON.stringify(t.error)).toBe('succeeded');
    } finally {
      fx.controller.tasks.off('updated', onTask);
    }
    expect(dropped).toBe(true);
    expect(lostSeen.length).toBeGreaterThan(0);
    const s = RunSummary.parse((await call<RunSummary[]>('runs.list', {})).find((r) => r.id === id));
    expect(s).toMatchObject({ status: 'complete', location: 'local' });
    expect(s.headline!.requestCount).toBe(16);
  }, 300_000);

  it('leaves a run going on the host when the controller closes, and a new controller collects it', async () => {
    const started = StartRunResult.parse(await call('runs.start', { deployment: disId, workload: { ...SMALL_SEED, oslMean: 64, minTokens: 64, maxTokens: 64, requestCount: 12, concurrency: 2, warmupRequestCount: 0 } }));
    const id = started.runIds[0]!;
    await new Promise<void>((resolve) => {
      const onTask = (t: { id: string; steps: Array<{ detail?: string }> }) => {
        if (t.id === started.task.id && /^[1-9]\d*\/12 requests/.test(t.steps.at(-1)?.detail ?? '')) {
          fx.controller.tasks.off('updated', onTask);
          resolve();
        }
      };
      fx.controller.tasks.on('updated', onTask);
    });
    await fx.controller.close();
    expect(fs.existsSync(path.join(fx.home, 'runs', id))).toBe(false);

    second = await createController({
      home: fx.home,
      mode: 'cli',
      artifacts: await agentArtifactsForTests(),
      localAgentHome: path.join(fx.home, 'local-agent'),
      ssh: { userKnownHostsFile: path.join(fx.userHome, '.ssh', 'known_hosts'), sshConfigFile: path.join(fx.userHome, '.ssh', 'config') },
    });
    const c2 = second;
    let s: RunSummary | undefined;
    let sawRunning = false;
    for (let i = 0; i < 240; i++) {
      s = ((await c2.handle('runs.list', { refresh: true })) as RunSummary[]).find((r) => r.id === id);
      if (s?.location === 'host') sawRunning = true;
      if (s?.location === 'local') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(s).toMatchObject({ id, status: 'complete', location: 'local' });
    expect(s!.headline!.requestCount).toBe(12);
    expect(sawRunning || s!.location === 'local').toBe(true);
    const pending = JSON.parse(fs.readFileSync(path.join(fx.home, 'runs', '.pending.json'), 'utf8')) as { runs: unknown[] };
    expect(pending.runs).toEqual([]);
  }, 300_000);
});
