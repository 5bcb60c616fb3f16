import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatPlan } from './format-plan';
import { DeploymentPlan } from './plan';
import { planDeployment, type PlanContext } from './planner';
import { parseDeploymentSpecText } from './spec-parse';
import { AGENT_COMMAND, hostFacts, SEED_MODEL } from './testing-hosts';

// Golden tests: every shipped example validates and plans to the commands documented in
// docs/deployment-spec.md. Expected argv and env are written out by hand from reference/vllm-disagg.md §1.6.

const ROOT = join(import.meta.dirname, '..', '..');
const DIR = '/home/alice/.handoff/deployments/seed';
const ctx: PlanContext = { busyGpus: {}, usedPorts: {}, agentCommand: AGENT_COMMAND, deploymentDirs: { 'this-computer': DIR } };
const hosts = { 'this-computer': hostFacts() };
const VLLM = '/home/alice/venvs/vllm/bin/vllm';

function planExample(file: string): DeploymentPlan {
  const parsed = parseDeploymentSpecText(readFileSync(join(ROOT, 'examples', file), 'utf8'));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const r = planDeployment(parsed.spec, hosts, ctx);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.plan;
}

const byName = (plan: DeploymentPlan, name: string) => {
  const p = plan.processes.find((x) => x.name === name);
  if (!p) throw new Error(`no process ${name}`);
  return p;
};

const ROUTER = [...AGENT_COMMAND, 'router', '--host', '127.0.0.1', '--port', '8181'];
const TRACE = ['--trace-file', `${DIR}/router-traces.jsonl`];
const PREFILL_KV = '{"kv_connector":"NixlConnector","kv_role":"kv_producer","kv_load_failure_policy":"fail"}';
const DECODE_KV = '{"kv_connector":"NixlConnector","kv_role":"kv_consumer","kv_load_failure_policy":"fail"}';

describe('shipped examples', () => {
  it('ships the four seed examples and each one validates and plans without warnings', () => {
    const files = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.yaml')).sort();
    expect(files).toEqual(['mocker-disaggregated.yaml', 'mocker-monolithic.yaml', 'seed-disaggregated.yaml', 'seed-monolithic.yaml']);
    for (const f of files) {
      const plan = planExample(f);
      expect(plan.warnings).toEqual([]);
      expect(DeploymentPlan.parse(plan)).toEqual(plan);
    }
  });

  it('plans seed-monolithic as one vLLM worker on GPU 0 with --enforce-eager behind the router on 8181', () => {
    const plan = planExample('seed-monolithic.yaml');
    expect(plan.processes.map((p) => p.name)).toEqual(['worker-0', 'router']);
    const w = byName(plan, 'worker-0');
    expect(w.argv).toEqual([VLLM, 'serve', SEED_MODEL, '--host', '127.0.0.1', '--port', '8100', '--enforce-eager']);
    expect(w.env).toEqual({ CUDA_VISIBLE_DEVICES: '0' });
    expect(w.gpuIds).toEqual([0]);
    expect(w.readiness).toEqual({ url: 'http://127.0.0.1:8100/health', path: '/health', timeoutS: 1200 });
    expect(w.cwd).toBe(DIR);
    const r = byName(plan, 'router');
    expect(r.argv).toEqual([...ROUTER, '--mode', 'aggregated', '--model', SEED_MODEL, '--worker', 'http://127.0.0.1:8100', ...TRACE]);
    expect(r.dependsOn).toEqual(['worker-0']);
    expect(r.startOrder).toBeGreaterThan(w.startOrder);
    expect(plan.endpoint).toEqual({ host: 'this-computer', url: 'http://127.0.0.1:8181', openaiBaseUrl: 'http://127.0.0.1:8181/v1', model: SEED_MODEL });
    expect(plan.portsByHost).toEqual({ 'this-computer': [8100, 8181] });
    expect(plan.gpusByHost).toEqual({ 'this-computer': [0] });
  });

  it('plans seed-disaggregated as prefill TP1 on GPU 0 and decode TP2 on GPUs 1-2 with NixlConnector and distinct side-channel ports', () => {
    const plan = planExample('seed-disaggregated.yaml');
    expect(plan.processes.map((p) => p.name)).toEqual(['prefill-0', 'decode-0', 'router']);
    const p = byName(plan, 'prefill-0');
    expect(p.argv).toEqual([VLLM, 'serve', SEED_MODEL, '--host', '127.0.0.1', '--port', '8100', '--enforce-eager', '--kv-transfer-config', PREFILL_KV]);
    expect(p.env).toEqual({
      CUDA_VISIBLE_DEVICES: '0',
      UCX_NET_DEVICES: 'all',
      VLLM_NIXL_SIDE_CHANNEL_HOST: '127.0.0.1',
      VLLM_NIXL_SIDE_CHANNEL_PORT: '5600',
    });
    const d = byName(plan, 'decode-0');
    expect(d.argv).toEqual([VLLM, 'serve', SEED_MODEL, '--host', '127.0.0.1', '--port', '8200', '--tensor-parallel-size', '2', '--enforce-eager', '--kv-transfer-config', DECODE_KV]);
    expect(d.env).toEqual({
      CUDA_VISIBLE_DEVICES: '1,2',
      UCX_NET_DEVICES: 'all',
      VLLM_NIXL_SIDE_CHANNEL_HOST: '127.0.0.1',
      VLLM_NIXL_SIDE_CHANNEL_PORT: '5601',
      NIXL_TELEMETRY_ENABLE: '1',
      NIXL_TELEMETRY_DIR: '/home/alice/.handoff/deployments/seed/nixl-telemetry/decode-0',
      NIXL_TELEMETRY_BUFFER_SIZE: '65536',
      NIXL_TELEMETRY_RUN_INTERVAL: '10',
    });
    // Older vLLM listens on base + tp_rank: decode's two ranks take 5601 and 5602.
    expect(d.sideChannel).toEqual({ host: '127.0.0.1', port: 5601, reservedPorts: [5601, 5602] });
    const r = byName(plan, 'router');
    expect(r.argv).toEqual([...ROUTER, '--mode', 'disaggregated', '--model', SEED_MODEL, '--prefill', 'http://127.0.0.1:8100', '--decode', 'http://127.0.0.1:8200', '--remote-prefill-min-tokens', '0', ...TRACE]);
    expect(r.dependsOn).toEqual(['prefill-0', 'decode-0']);
    expect(plan.portsByHost).toEqual({ 'this-computer': [5600, 5601, 5602, 8100, 8181, 8200] });
    expect(plan.gpusByHost).toEqual({ 'this-computer': [0, 1, 2] });
  });

  it('plans the mocker copies with the same vllm-serve arguments, run as handoff-agent mocker, taking no real GPUs', () => {
    for (const [seed, mock] of [['seed-monolithic.yaml', 'mocker-monolithic.yaml'], ['seed-disaggregated.yaml', 'mocker-disaggregated.yaml']] as const) {
      const real = planExample(seed);
      const sim = planExample(mock);
      expect(sim.engine).toBe('mocker');
      expect(sim.gpusByHost).toEqual({});
      for (const rp of real.processes.filter((p) => p.kind === 'worker')) {
        const sp = byName(sim, rp.name);
        expect(sp.argv.slice(0, AGENT_COMMAND.length + 1)).toEqual([...AGENT_COMMAND, 'mocker']);
        expect(sp.argv.slice(AGENT_COMMAND.length + 1)).toEqual(rp.argv.slice(2));
        expect(sp.env).toEqual(rp.env);
        expect(sp.readiness.timeoutS).toBe(60);
      }
      expect(byName(sim, 'router').argv).toEqual(byName(real, 'router').argv);
    }
  });

  it('plans the mocker examples on a machine without any GPU', () => {
    for (const f of ['mocker-monolithic.yaml', 'mocker-disaggregated.yaml']) {
      const parsed = parseDeploymentSpecText(readFileSync(join(ROOT, 'examples', f), 'utf8'));
      if (!parsed.ok) throw new Error('parse');
      const r = planDeployment(parsed.spec, { 'this-computer': hostFacts({ gpuCount: 0, pythons: [] }) }, ctx);
      expect(r.ok).toBe(true);
    }
  });

  it('documents in docs/deployment-spec.md exactly the dry-run output of the seed examples', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'deployment-spec.md'), 'utf8');
    for (const name of ['seed-monolithic', 'seed-disaggregated']) {
      const m = new RegExp(`<!-- dry-run:${name} -->\\n\`\`\`text\\n([\\s\\S]*?)\`\`\`\\n`).exec(doc);
      expect(m, `docs block for ${name}`).not.toBeNull();
      expect(m![1]).toBe(formatPlan(planExample(`${name}.yaml`)));
    }
  });
});
