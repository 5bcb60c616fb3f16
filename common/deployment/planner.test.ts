import { describe, expect, it } from 'vitest';
import type { HostInfo } from '../host';
import type { DeploymentPlan } from './plan';
import { planDeployment, vllmCommandFor, type PlanContext } from './planner';
import type { Problem } from './problems';
import { DeploymentSpec, type DeploymentSpecInput } from './spec';
import { AGENT_COMMAND, h100, hostFacts, SEED_MODEL, vllmPython } from './testing-hosts';

const baseCtx: PlanContext = { busyGpus: {}, usedPorts: {}, agentCommand: AGENT_COMMAND };

function disagg(over: Partial<DeploymentSpecInput> = {}): DeploymentSpecInput {
  return {
    apiVersion: 'handoff/v1',
    name: 'pd',
    model: SEED_MODEL,
    engine: 'vllm',
    mode: 'disaggregated',
    workers: [
      { name: 'prefill', role: 'prefill', gpus: [0] },
      { name: 'decode', role: 'decode', tp: 2, gpus: [1, 2] },
    ],
    ...over,
  };
}

function plan(input: DeploymentSpecInput, hosts: Record<string, HostInfo | undefined> = { 'this-computer': hostFacts() }, ctx: Partial<PlanContext> = {}) {
  return planDeployment(DeploymentSpec.parse(input), hosts, { ...baseCtx, ...ctx });
}

function okPlan(...args: Parameters<typeof plan>): DeploymentPlan {
  const r = plan(...args);
  if (!r.ok) throw new Error(`expected a plan, got:\n${r.problems.map((p) => `${p.code}: ${p.message}`).join('\n')}`);
  return r.plan;
}

function errors(...args: Parameters<typeof plan>): Problem[] {
  const r = plan(...args);
  if (r.ok) throw new Error('expected problems, got a plan');
  return r.problems.filter((p) => p.severity === 'error');
}

function onlyError(...args: Parameters<typeof plan>): Problem {
  const errs = errors(...args);
  expect(errs.map((e) => e.code), JSON.stringify(errs, null, 1)).toHaveLength(1);
  return errs[0]!;
}

const proc = (p: DeploymentPlan, name: string) => p.processes.find((x) => x.name === name)!;

describe('planner validation: one specific message per problem', () => {
  it('rejects a host that is not one of the saved hosts, naming the known ones', () => {
    const e = onlyError(disagg({ workers: [{ role: 'prefill', host: 'gpu9', gpus: [0] }, { role: 'decode', gpus: [1] }] }));
    expect(e.code).toBe('unknown-host');
    expect(e.path).toEqual(['workers', 0, 'host']);
    expect(e.message).toContain('"gpu9"');
    expect(e.message).toContain('this-computer');
    expect(e.message).toContain('handoff hosts add');
  });

  it('rejects a host whose facts are not known yet and says to check it', () => {
    const e = onlyError(disagg({ workers: [{ role: 'prefill', host: 'gpu1', gpus: [0] }, { role: 'decode', host: 'gpu1', gpus: [1] }], router: { host: 'gpu1' } }), { 'this-computer': hostFacts(), gpu1: undefined });
    expect(e.code).toBe('host-facts-missing');
    expect(e.message).toContain('handoff hosts check gpu1');
  });

  it('rejects a GPU id the host does not have, listing the ones it has', () => {
    const e = onlyError(disagg({ workers: [{ role: 'prefill', gpus: [7] }, { role: 'decode', gpus: [1] }] }));
    expect(e.code).toBe('gpu-missing');
    expect(e.path).toEqual(['workers', 0, 'gpus']);
    expect(e.message).toMatch(/GPU 7 does not exist on "this-computer" \(it has GPUs 0, 1, 2, 3\)/);
  });

  it('rejects GPUs on a host without a GPU and points to the CPU build or the mocker', () => {
    const errs = errors(disagg(), { 'this-computer': hostFacts({ gpuCount: 0 }) });
    expect(errs.map((x) => x.code)).toEqual(['gpu-missing', 'gpu-missing']);
    const e = errs[1]!;
    expect(e.message).toContain('"decode" asks for GPUs [1,2]');
    expect(e.message).toContain('has no GPU');
    expect(e.message).toContain('engine: mocker');
  });

  it('rejects a GPU used by another deployment and suggests the free ones', () => {
    const e = onlyError(disagg(), undefined, { busyGpus: { 'this-computer': [1] } });
    expect(e.code).toBe('gpu-busy');
    expect(e.message).toContain('GPU 1 on "this-computer" is used by another deployment');
    expect(e.message).toContain('free GPU (3)');
  });

  it('rejects one GPU given to two groups', () => {
    const e = onlyError(disagg({ workers: [{ name: 'p', role: 'prefill', gpus: [1] }, { name: 'd', role: 'decode', gpus: [1] }] }));
    expect(e.code).toBe('gpu-duplicate');
    expect(e.message).toContain('"p" and "d"');
  });

  it('rejects TP different from the GPU count and suggests tp or replicas', () => {
    const e = onlyError(disagg({ workers: [{ role: 'prefill', gpus: [0] }, { role: 'decode', tp: 1, gpus: [1, 2] }] }));
    expect(e.code).toBe('tp-gpu-mismatch');
    expect(e.path).toEqual(['workers', 1, 'gpus']);
    expect(e.message).toContain('tp: 1 but 2 GPUs (1, 2)');
    expect(e.message).toContain('set tp: 2, or replicas: 2');
  });

  it('rejects prefill TP larger than decode TP', () => {
    const e = onlyError(disagg({ workers: [{ role: 'prefill', tp: 2, gpus: [0, 1] }, { role: 'decode', gpus: [2] }] }));
    expect(e.code).toBe('prefill-tp-exceeds-decode');
    expect(e.path).toEqual(['workers', 0, 'tp']);
    expect(e.message).toContain('prefill tp ≤ decode tp');
  });

  it('rejects different block sizes on prefill and decode, including one side left at the default', () => {
    let e = onlyError(disagg({ workers: [{ role: 'prefill', gpus: [0], vllm: { blockSize: 16 } }, { role: 'decode', gpus: [1], vllm: { blockSize: 32 } }] }));
    expect(e.code).toBe('block-size-mismatch');
    expect(e.message).toContain('prefill: 16; decode: 32');
    e = onlyError(disagg({ workers: [{ role: 'prefill', gpus: [0], vllm: { blockSize: 64 } }, { role: 'decode', gpus: [1] }] }));
    expect(e.code).toBe('block-size-mismatch');
    expect(e.message).toContain("vLLM's default");
    expect(okPlan(disagg({ vllm: { blockSize: 64 } })).processes.every((p) => p.kind === 'router' || p.argv.join(' ').includes('--block-size 64'))).toBe(true);
  });

  it('rejects an explicit port clash inside the plan', () => {
    const e = onlyError(disagg({ workers: [{ role: 'prefill', gpus: [0], port: 9000 }, { role: 'decode', gpus: [1], port: 9000 }] }));
    expect(e.code).toBe('port-clash');
    expect(e.message).toContain('Port 9000 on "this-computer" is given to both worker prefill-0 and worker decode-0');
    const r = onlyError(disagg({ workers: [{ role: 'prefill', gpus: [0], port: 8181 }, { role: 'decode', gpus: [1] }] }));
    expect(r.code).toBe('port-clash');
    expect(r.message).toContain('the router');
  });

  it('rejects a router port used by another deployment and suggests the next free one', () => {
    const e = onlyError(disagg(), undefined, { usedPorts: { 'this-computer': [8181, 8182] } });
    expect(e.code).toBe('port-in-use');
    expect(e.path).toEqual(['router', 'port']);
    expect(e.message).toContain('e.g. 8183');
  });

  it('steps automatic HTTP and side-channel ports around ports other deployments hold', () => {
    const p = okPlan(disagg(), undefined, { usedPorts: { 'this-computer': [8100, 8200, 5600, 5602] } });
    expect(proc(p, 'prefill-0').port).toBe(8101);
    expect(proc(p, 'decode-0').port).toBe(8201);
    expect(proc(p, 'prefill-0').env['VLLM_NIXL_SIDE_CHANNEL_PORT']).toBe('5601');
    // decode (TP 2) needs two consecutive free ports: 5603-5604.
    expect(proc(p, 'decode-0').sideChannel?.reservedPorts).toEqual([5603, 5604]);
  });

  it('rejects roles that do not fit the mode', () => {
    const agg = errors(disagg({ mode: 'aggregated' }));
    expect(agg.map((e) => e.code)).toEqual(['role-mode-mismatch', 'role-mode-mismatch']);
    expect(agg[0]!.message).toContain('has role "prefill" but the deployment is aggregated');
    const missing = errors(disagg({ workers: [{ gpus: [0] }, { role: 'decode', gpus: [1] }] }));
    expect(missing.map((e) => e.code)).toEqual(['role-mode-mismatch', 'role-mode-mismatch']);
    expect(missing[0]!.message).toContain('has no role');
    expect(missing[1]!.message).toContain('needs at least one worker group with role: prefill');
  });

  it('rejects two groups with the same name', () => {
    const e = onlyError(disagg({ workers: [{ name: 'w', role: 'prefill', gpus: [0] }, { name: 'w', role: 'decode', gpus: [1] }] }));
    expect(e.code).toBe('duplicate-name');
  });

  it('rejects more GPUs than are free when GPUs are picked automatically', () => {
    const e = onlyError(disagg({ workers: [{ role: 'prefill', tp: 2 }, { role: 'decode', tp: 2, replicas: 2 }] }));
    expect(e.code).toBe('not-enough-gpus');
    expect(e.message).toContain('needs 4 GPUs (2 × tp 2)');
    expect(e.message).toContain('only 2 are free (2, 3)');
  });

  it('reports vLLM missing from the host and suggests the mocker or the pip command', () => {
    const e = onlyError(disagg(), { 'this-computer': hostFacts({ pythons: [vllmPython({ vllm: null, nixl: null }, '/usr/bin/python3')] }) });
    expect(e.code).toBe('engine-not-installed');
    expect(e.message).toContain('engine: mocker');
    expect(e.message).toContain('/usr/bin/python3 -m pip install vllm');
  });

  it('reports vLLM missing from the named Python environment', () => {
    const hosts = { 'this-computer': hostFacts({ pythons: [vllmPython(), vllmPython({ vllm: null }, '/opt/other/bin/python')] }) };
    const e = onlyError(disagg({ hosts: { 'this-computer': { python: '/opt/other' } } }), hosts);
    expect(e.code).toBe('engine-not-installed');
    expect(e.path).toEqual(['hosts', 'this-computer', 'python']);
    expect(e.message).toContain('the Python environment /opt/other/bin/python');
  });

  it('reports NIXL missing for a disaggregated deployment', () => {
    const e = onlyError(disagg(), { 'this-computer': hostFacts({ pythons: [vllmPython({ vllm: '0.11.0', nixl: null })] }) });
    expect(e.code).toBe('nixl-not-installed');
    expect(e.message).toContain('pip install nixl');
  });

  it('rejects a local model directory the host does not have', () => {
    const e = onlyError(disagg({ model: '/models/llama-8b' }));
    expect(e.code).toBe('model-not-found');
    expect(e.message).toContain('/models/llama-8b was not found on "this-computer"');
  });

  it('warns that a hub model absent from the cache will be downloaded, and refuses when HF_HUB_OFFLINE=1', () => {
    const p = okPlan(disagg({ model: 'Qwen/Qwen3-0.6B' }));
    expect(p.warnings.map((w) => w.code)).toEqual(['model-will-download']);
    const e = onlyError(disagg({ model: 'Qwen/Qwen3-0.6B', env: { HF_HUB_OFFLINE: '1' } }));
    expect(e.code).toBe('model-not-found');
    expect(e.message).toContain('HF_HUB_OFFLINE=1');
  });

  it('rejects paths that would need a shell to expand', () => {
    expect(onlyError(disagg({ model: '~/models/x' })).code).toBe('path-not-absolute');
    expect(onlyError(disagg({ hosts: { 'this-computer': { python: '~/venv/bin/python' } } })).code).toBe('path-not-absolute');
  });

  it('rejects env variables and vLLM flags that the planner owns, saying which field to use', () => {
    const e = onlyError(disagg({ env: { CUDA_VISIBLE_DEVICES: '3' } }));
    expect(e.code).toBe('env-reserved');
    expect(e.message).toContain('set `gpus`');
    const f = onlyError(disagg({ vllm: { extraArgs: ['--block-size=32'] } }));
    expect(f.code).toBe('extra-arg-reserved');
    expect(f.message).toContain('vllm.blockSize');
    expect(onlyError(disagg({ vllm: { extraArgs: ['--kv-transfer-config.kv_role', 'kv_both'] } })).code).toBe('extra-arg-reserved');
  });

  it("refuses NIXL_TELEMETRY_ENABLE=0 for real vLLM P/D, which makes every KV read fail, and allows it elsewhere", () => {
    const e = onlyError(disagg({ workers: [{ name: 'prefill', role: 'prefill', gpus: [0] }, { name: 'decode', role: 'decode', tp: 2, gpus: [1, 2], env: { NIXL_TELEMETRY_ENABLE: 'no' } }] }));
    expect(e.code).toBe('nixl-telemetry-disabled');
    expect(e.path).toEqual(['workers', 1, 'env', 'NIXL_TELEMETRY_ENABLE']);
    expect(e.message).toContain('nixlNoTelemetryError');
    expect(onlyError(disagg({ env: { NIXL_TELEMETRY_ENABLE: '0' } })).code).toBe('nixl-telemetry-disabled');
    expect(plan(disagg({ env: { NIXL_TELEMETRY_ENABLE: '1' } })).ok).toBe(true);
    // The mocker reads no telemetry back, so it may run without.
    expect(plan(disagg({ engine: 'mocker', env: { NIXL_TELEMETRY_ENABLE: '0' } })).ok).toBe(true);
  });

  it('warns when conditional-disaggregation options are given to an aggregated deployment', () => {
    const p = okPlan({ apiVersion: 'handoff/v1', name: 'agg', model: SEED_MODEL, workers: [{ gpus: [0] }], router: { disaggregation: { remotePrefillMinTokens: 100 } } });
    expect(p.warnings.map((w) => w.code)).toEqual(['router-mode-option']);
  });

  it('warns about a GPU that another program is already using', () => {
    const facts = hostFacts();
    facts.gpus[0] = h100(0, 40_000);
    const p = okPlan(disagg(), { 'this-computer': facts });
    expect(p.warnings.map((w) => w.code)).toEqual(['gpu-memory-in-use']);
  });

  it('reports every problem at once, not just the first', () => {
    const r = plan(disagg({ workers: [{ role: 'prefill', tp: 2, gpus: [0] }, { role: 'decode', host: 'nowhere', gpus: [1] }], env: { VLLM_NIXL_SIDE_CHANNEL_PORT: '1' } }));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => p.code).sort()).toEqual(['env-reserved', 'prefill-tp-exceeds-decode', 'tp-gpu-mismatch', 'unknown-host']);
  });
});

describe('planner: multi-host plans', () => {
  const twoHosts = { 'gpu-a': hostFacts({ hostname: 'gpu-a' }), 'gpu-b': hostFacts({ hostname: 'gpu-b' }) };
  const spec = disagg({
    workers: [
      { role: 'prefill', host: 'gpu-a', gpus: [0] },
      { role: 'decode', host: 'gpu-b', tp: 2, gpus: [0, 1] },
    ],
    router: { host: 'gpu-a' },
  });

  it('binds remote workers to their address, advertises routable side-channel hosts, and points the router at addresses', () => {
    const p = okPlan(spec, twoHosts, { hostAddresses: { 'gpu-a': '10.0.0.1', 'gpu-b': '10.0.0.2' } });
    const pre = proc(p, 'prefill-0');
    const dec = proc(p, 'decode-0');
    expect(pre.host).toBe('gpu-a');
    // Same host as the router: HTTP stays on loopback; the side channel must be reachable from gpu-b.
    expect(pre.argv.slice(3, 7)).toEqual(['--host', '127.0.0.1', '--port', '8100']);
    expect(pre.env['VLLM_NIXL_SIDE_CHANNEL_HOST']).toBe('10.0.0.1');
    expect(dec.argv.slice(3, 7)).toEqual(['--host', '10.0.0.2', '--port', '8200']);
    expect(dec.env['VLLM_NIXL_SIDE_CHANNEL_HOST']).toBe('10.0.0.2');
    expect(dec.env['VLLM_NIXL_SIDE_CHANNEL_PORT']).toBe('5600'); // same base on different hosts is fine (reference §1.5)
    expect(dec.readiness.url).toBe('http://10.0.0.2:8200/health');
    const router = proc(p, 'router');
    expect(router.host).toBe('gpu-a');
    expect(router.argv).toContain('http://10.0.0.2:8200');
    expect(router.argv).toContain('http://127.0.0.1:8100');
    expect(p.hosts).toEqual(['gpu-a', 'gpu-b']);
    expect(p.portsByHost).toEqual({ 'gpu-a': [5600, 8100, 8181], 'gpu-b': [5600, 5601, 8200] });
    expect(p.gpusByHost).toEqual({ 'gpu-a': [0], 'gpu-b': [0, 1] });
  });

  it('takes a host address from the spec over the controller-supplied one', () => {
    const p = okPlan({ ...spec, hosts: { 'gpu-b': { address: '192.168.1.20' } } }, twoHosts, { hostAddresses: { 'gpu-a': '10.0.0.1', 'gpu-b': '10.0.0.2' } });
    expect(proc(p, 'decode-0').env['VLLM_NIXL_SIDE_CHANNEL_HOST']).toBe('192.168.1.20');
  });

  it('rejects a loopback side-channel host when prefill and decode are on different machines', () => {
    const errs = errors(spec, twoHosts, { hostAddresses: { 'gpu-a': '127.0.0.1', 'gpu-b': '10.0.0.2' } });
    expect(errs.map((e) => e.code)).toEqual(['side-channel-not-routable']);
    expect(errs[0]!.path).toEqual(['hosts', 'gpu-a', 'address']);
    expect(errs[0]!.message).toContain('Remote NIXL agent engine ID mismatch');
  });

  it('rejects a multi-host deployment when a host address is unknown', () => {
    const errs = errors(spec, twoHosts, { hostAddresses: { 'gpu-a': '10.0.0.1' } });
    expect(errs.map((e) => e.code)).toEqual(['host-address-unknown']);
    expect(errs[0]!.message).toContain('hosts.gpu-b.address');
  });

  it('rejects workers the router cannot reach', () => {
    const agg: DeploymentSpecInput = { apiVersion: 'handoff/v1', name: 'agg', model: SEED_MODEL, workers: [{ host: 'gpu-a', gpus: [0] }, { name: 'b', host: 'gpu-b', gpus: [0] }], router: { host: 'gpu-a' } };
    const errs = errors(agg, twoHosts, { hostAddresses: { 'gpu-a': '10.0.0.1', 'gpu-b': '0.0.0.0' } });
    expect(errs.map((e) => e.code)).toEqual(['address-not-routable']);
  });

  it('treats hosts on 127.0.0.x as one machine: loopback side channels are allowed and ports never overlap', () => {
    const hosts = { h1: hostFacts(), h2: hostFacts() };
    const p = okPlan(
      disagg({
        engine: 'mocker',
        workers: [
          { role: 'prefill', host: 'h1', replicas: 2 },
          { role: 'prefill', name: 'prefill-b', host: 'h2' },
          { role: 'decode', host: 'h2' },
        ],
        router: { host: 'h1' },
      }),
      hosts,
      { hostAddresses: { h1: '127.0.0.2', h2: '127.0.0.3' }, usedPorts: { h2: [8102] } },
    );
    expect(p.processes.map((x) => `${x.name}@${x.bindHost}:${x.port} side ${x.sideChannel?.host}:${x.sideChannel?.port}`)).toEqual([
      'prefill-0@127.0.0.1:8100 side 127.0.0.2:5600',
      'prefill-1@127.0.0.1:8101 side 127.0.0.2:5601',
      'prefill-b-0@127.0.0.3:8103 side 127.0.0.3:5602',
      'decode-0@127.0.0.3:8200 side 127.0.0.3:5603',
      'router@127.0.0.1:8181 side undefined:undefined',
    ]);
    expect(proc(p, 'router').argv.filter((a) => a.startsWith('http'))).toEqual(['http://127.0.0.1:8100', 'http://127.0.0.1:8101', 'http://127.0.0.3:8103', 'http://127.0.0.3:8200']);
  });
});

describe('planner: hosts without a GPU (vLLM CPU build)', () => {
  const cpuHost = { 'this-computer': hostFacts({ gpuCount: 0 }) };
  const cpuSpec = disagg({ workers: [{ role: 'prefill' }, { role: 'decode' }], vllm: { gpuMemoryUtilization: 0.5, cpu: { ompThreadsBind: 'nobind' } } });

  it('adds kv_buffer_device cpu and VLLM_CPU_* instead of CUDA_VISIBLE_DEVICES', () => {
    const p = okPlan(cpuSpec, cpuHost);
    const pre = proc(p, 'prefill-0');
    expect(pre.cpuOnly).toBe(true);
    expect(pre.gpuIds).toEqual([]);
    expect(pre.env).toEqual({
      UCX_NET_DEVICES: 'all',
      VLLM_NIXL_SIDE_CHANNEL_HOST: '127.0.0.1',
      VLLM_NIXL_SIDE_CHANNEL_PORT: '5600',
      VLLM_CPU_KVCACHE_SPACE: '4',
      VLLM_CPU_OMP_THREADS_BIND: 'nobind',
    });
    const kv = JSON.parse(pre.argv[pre.argv.indexOf('--kv-transfer-config') + 1]!);
    expect(kv).toEqual({ kv_connector: 'NixlConnector', kv_role: 'kv_producer', kv_load_failure_policy: 'fail', kv_buffer_device: 'cpu' });
    expect(pre.argv).not.toContain('--gpu-memory-utilization');
    expect(p.gpusByHost).toEqual({});
  });

  it('pins a group and the router to their CPUs with taskset, and binds a single-rank CPU engine\'s OpenMP threads to the same CPUs unless ompThreadsBind says otherwise', () => {
    const spec = disagg({ workers: [{ role: 'prefill', cpus: '1' }, { role: 'decode', cpus: '2,3' }], router: { cpus: '0' } });
    const p = okPlan(spec, cpuHost);
    expect([proc(p, 'prefill-0').cpus, proc(p, 'decode-0').cpus, proc(p, 'router').cpus]).toEqual(['1', '2-3', '0']);
    expect(proc(p, 'prefill-0').env['VLLM_CPU_OMP_THREADS_BIND']).toBe('1');
    expect(proc(p, 'decode-0').env['VLLM_CPU_OMP_THREADS_BIND']).toBe('2-3');
    const explicit = okPlan({ ...spec, vllm: { cpu: { ompThreadsBind: 'nobind' } } }, cpuHost);
    expect(proc(explicit, 'prefill-0').env['VLLM_CPU_OMP_THREADS_BIND']).toBe('nobind');
    // On a GPU host the CPU set only pins the process.
    const gpu = okPlan(disagg({ workers: [{ role: 'prefill', gpus: [0], cpus: '0-7' }, { role: 'decode', gpus: [1] }] }));
    expect(proc(gpu, 'prefill-0').cpus).toBe('0-7');
    expect(proc(gpu, 'prefill-0').env['VLLM_CPU_OMP_THREADS_BIND']).toBeUndefined();
    expect(proc(gpu, 'decode-0').cpus).toBeUndefined();
  });

  it('refuses CPUs the host does not have, and malformed CPU lists', () => {
    const e = onlyError(disagg({ workers: [{ role: 'prefill', cpus: '60-70' }, { role: 'decode' }] }), cpuHost);
    expect(e.code).toBe('cpus-unavailable');
    expect(e.path).toEqual(['workers', 0, 'cpus']);
    expect(e.message).toContain('CPUs 64-70 do not exist on "this-computer", which has 64');
    expect(onlyError(disagg({ workers: [{ role: 'prefill' }, { role: 'decode' }], router: { cpus: '64' } }), cpuHost).path).toEqual(['router', 'cpus']);
    const bad = DeploymentSpec.safeParse(disagg({ workers: [{ role: 'prefill', cpus: '3-1' }, { role: 'decode' }] }));
    expect(bad.error?.issues[0]).toMatchObject({ path: ['workers', 0, 'cpus'], message: expect.stringContaining('backwards') });
  });

  it('leaves the CPU settings out on GPU hosts', () => {
    const p = okPlan(disagg({ vllm: { gpuMemoryUtilization: 0.5 } }));
    const pre = proc(p, 'prefill-0');
    expect(Object.keys(pre.env).filter((k) => k.startsWith('VLLM_CPU'))).toEqual([]);
    expect(pre.argv.join(' ')).not.toContain('kv_buffer_device');
    expect(pre.argv).toContain('--gpu-memory-utilization');
  });

  it('rejects prefill and decode split across CPU and GPU hosts', () => {
    const hosts = { 'this-computer': hostFacts({ gpuCount: 0 }), gpu1: hostFacts() };
    const e = onlyError(disagg({ workers: [{ role: 'prefill' }, { role: 'decode', host: 'gpu1', gpus: [0] }], router: { host: 'gpu1' }, hosts: { 'this-computer': { address: '10.0.0.5' }, gpu1: { address: '10.0.0.6' } } }), hosts);
    expect(e.code).toBe('mixed-platforms');
  });

  it('rejects kv buffer device cuda on a host without a GPU', () => {
    const e = onlyError({ ...cpuSpec, kvTransfer: { bufferDevice: 'cuda' } }, cpuHost);
    expect(e.code).toBe('kv-buffer-device-unsupported');
  });

  it('warns, without refusing the plan, when a decode worker on a host without a GPU is eager (vLLM CPU dies with Illegal instruction then)', () => {
    const eager = okPlan({ ...cpuSpec, vllm: { ...cpuSpec.vllm, enforceEager: true } }, cpuHost);
    const w = eager.warnings.filter((x) => x.code === 'cpu-decode-enforce-eager');
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({ severity: 'warning', path: ['vllm', 'enforceEager'] });
    expect(w[0]!.message).toContain('"decode"');
    expect(w[0]!.message).toContain('Illegal instruction');
    expect(w[0]!.message).toContain('enforceEager: false');
    expect(proc(eager, 'decode-0').argv).toContain('--enforce-eager');

    // Eager prefill with a compiled decode (what docs/real-vllm.md runs): no warning.
    const decodeCompiled = okPlan({ ...cpuSpec, vllm: { ...cpuSpec.vllm, enforceEager: true }, workers: [{ role: 'prefill' }, { role: 'decode', vllm: { enforceEager: false } }] }, cpuHost);
    expect(decodeCompiled.warnings.map((x) => x.code)).not.toContain('cpu-decode-enforce-eager');
    // Set on the decode group itself: the warning points there.
    const onGroup = okPlan({ ...cpuSpec, workers: [{ role: 'prefill' }, { role: 'decode', vllm: { enforceEager: true } }] }, cpuHost);
    expect(onGroup.warnings.find((x) => x.code === 'cpu-decode-enforce-eager')?.path).toEqual(['workers', 1, 'vllm', 'enforceEager']);
    // GPU hosts, and aggregated CPU workers, are not affected.
    expect(okPlan(disagg({ vllm: { enforceEager: true } })).warnings.map((x) => x.code)).not.toContain('cpu-decode-enforce-eager');
    expect(okPlan({ ...cpuSpec, mode: 'aggregated', workers: [{ role: 'both' }], vllm: { enforceEager: true } }, cpuHost).warnings.map((x) => x.code)).not.toContain('cpu-decode-enforce-eager');
  });
});

describe('planner: options', () => {
  it('runs several instances per group from per-instance GPU lists, each with its own port and side channel', () => {
    const p = okPlan(disagg({ workers: [{ role: 'prefill', gpus: [[0], [1]] }, { role: 'decode', gpus: [2, 3], replicas: 2 }] }));
    expect(p.processes.map((x) => [x.name, x.gpuIds.join(','), x.port, x.sideChannel?.port])).toEqual([
      ['prefill-0', '0', 8100, 5600],
      ['prefill-1', '1', 8101, 5601],
      ['decode-0', '2', 8200, 5602],
      ['decode-1', '3', 8201, 5603],
      ['router', '', 8181, undefined],
    ]);
  });

  it('picks free GPUs in index order when gpus is omitted', () => {
    const p = okPlan(disagg({ workers: [{ role: 'prefill' }, { role: 'decode', tp: 2 }] }), undefined, { busyGpus: { 'this-computer': [0] } });
    expect(proc(p, 'prefill-0').gpuIds).toEqual([1]);
    expect(proc(p, 'decode-0').gpuIds).toEqual([2, 3]);
  });

  it('writes every vLLM option, the push connector, extra config, UCX and env in the documented order', () => {
    const p = okPlan(
      disagg({
        model: { path: SEED_MODEL, servedName: 'r1-8b' },
        vllm: { enforceEager: true, blockSize: 128, maxModelLen: 8192, gpuMemoryUtilization: 0.85, extraArgs: ['--dtype', 'bfloat16'] },
        workers: [
          { role: 'prefill', gpus: [0], env: { VLLM_LOGGING_LEVEL: 'DEBUG' }, vllm: { extraArgs: ['--max-num-seqs', '8'] } },
          { role: 'decode', gpus: [1] },
        ],
        kvTransfer: { connector: 'NixlPushConnector', extraConfig: { backends: ['UCX'], num_threads: 4 }, ucx: { tls: 'rc,ud,sm,^cuda_ipc', netDevices: 'mlx5_0:1' }, sideChannelBasePort: 6000 },
        router: { port: 9000, disaggregation: { remotePrefillMinTokens: 512, prefillQueueLimit: 8 } },
        env: { HF_TOKEN: 'x' },
        restart: { policy: 'on-failure' },
      }),
    );
    const pre = proc(p, 'prefill-0');
    expect(pre.argv).toEqual([
      '/home/alice/venvs/vllm/bin/vllm', 'serve', SEED_MODEL,
      '--host', '127.0.0.1', '--port', '8100',
      '--served-model-name', 'r1-8b',
      '--enforce-eager', '--block-size', '128', '--max-model-len', '8192', '--gpu-memory-utilization', '0.85',
      '--kv-transfer-config', '{"kv_connector":"NixlPushConnector","kv_role":"kv_producer","kv_load_failure_policy":"fail","kv_connector_extra_config":{"backends":["UCX"],"num_threads":4}}',
      '--dtype', 'bfloat16', '--max-num-seqs', '8',
    ]);
    expect(pre.env).toEqual({
      CUDA_VISIBLE_DEVICES: '0',
      UCX_NET_DEVICES: 'mlx5_0:1',
      UCX_TLS: 'rc,ud,sm,^cuda_ipc',
      VLLM_NIXL_SIDE_CHANNEL_HOST: '127.0.0.1',
      VLLM_NIXL_SIDE_CHANNEL_PORT: '6000',
      HF_TOKEN: 'x',
      VLLM_LOGGING_LEVEL: 'DEBUG',
    });
    expect(proc(p, 'decode-0').argv).not.toContain('--max-num-seqs');
    expect(pre.restart).toEqual({ policy: 'on-failure', maxRestarts: 3, backoffS: 5 });
    const router = proc(p, 'router');
    expect(router.argv.slice(AGENT_COMMAND.length)).toEqual([
      'router', '--host', '127.0.0.1', '--port', '9000', '--mode', 'disaggregated', '--model', 'r1-8b',
      '--prefill', 'http://127.0.0.1:8100', '--decode', 'http://127.0.0.1:8200',
      '--remote-prefill-min-tokens', '512', '--prefill-queue-limit', '8',
    ]);
    expect(router.env).toEqual({ HF_TOKEN: 'x' });
    expect(p.endpoint.model).toBe('r1-8b');
  });

  it('passes mocker options as --mocker-* flags after the vLLM arguments', () => {
    const p = okPlan(disagg({ engine: 'mocker', mocker: { profile: '/p/h100.json', options: { prefillTokensPerS: 12000, 'decode-base-ms': 8, someSwitch: true, otherSwitch: false } } }));
    const argv = proc(p, 'prefill-0').argv;
    expect(argv.slice(argv.indexOf('--mocker-profile'))).toEqual([
      '--mocker-profile', '/p/h100.json', '--mocker-prefill-tokens-per-s', '12000', '--mocker-decode-base-ms', '8', '--mocker-some-switch',
    ]);
  });

  it('uses one agent command per host when given a map', () => {
    const hosts = { 'gpu-a': hostFacts(), 'gpu-b': hostFacts() };
    const p = okPlan(
      disagg({ engine: 'mocker', workers: [{ role: 'prefill', host: 'gpu-a' }, { role: 'decode', host: 'gpu-b' }], router: { host: 'gpu-a' } }),
      hosts,
      { agentCommand: { 'gpu-a': ['/a/node', '/a/agent.cjs'], 'gpu-b': ['/b/node', '/b/agent.cjs'] }, hostAddresses: { 'gpu-a': '10.0.0.1', 'gpu-b': '10.0.0.2' } },
    );
    expect(proc(p, 'decode-0').argv.slice(0, 3)).toEqual(['/b/node', '/b/agent.cjs', 'mocker']);
    expect(proc(p, 'router').argv.slice(0, 3)).toEqual(['/a/node', '/a/agent.cjs', 'router']);
  });

  it('finds the vllm console script next to the interpreter or inside an environment directory', () => {
    expect(vllmCommandFor('/opt/venv/bin/python3.12')).toBe('/opt/venv/bin/vllm');
    expect(vllmCommandFor('/opt/venv')).toBe('/opt/venv/bin/vllm');
    expect(vllmCommandFor('/opt/venv/')).toBe('/opt/venv/bin/vllm');
    expect(vllmCommandFor(undefined)).toBe('vllm');
  });

  it('warns, and trusts the spec, when the named Python environment was not discovered', () => {
    const p = okPlan(disagg({ workers: [{ role: 'prefill', gpus: [0], python: '/srv/vllm-env' }, { role: 'decode', gpus: [1] }] }));
    expect(p.warnings.map((w) => w.code)).toEqual(['python-env-unknown']);
    expect(proc(p, 'prefill-0').argv[0]).toBe('/srv/vllm-env/bin/vllm');
    expect(proc(p, 'decode-0').argv[0]).toBe('/home/alice/venvs/vllm/bin/vllm');
  });
});

describe('planner: NIXL per-transfer telemetry', () => {
  const dirs = { deploymentDirs: { 'this-computer': '/home/u/.handoff/deployments/d1' } };

  it('turns NIXL telemetry on for each decode worker of a disaggregated deployment, in its own directory under the deployment, for vllm and mocker', () => {
    for (const engine of ['vllm', 'mocker'] as const) {
      const p = okPlan(disagg({ engine, workers: [{ role: 'prefill' }, { role: 'decode', replicas: 2 }] }), undefined, dirs);
      expect(proc(p, 'decode-0').env, engine).toMatchObject({ NIXL_TELEMETRY_ENABLE: '1', NIXL_TELEMETRY_DIR: '/home/u/.handoff/deployments/d1/nixl-telemetry/decode-0', NIXL_TELEMETRY_BUFFER_SIZE: '65536' });
      expect(proc(p, 'decode-1').env['NIXL_TELEMETRY_DIR'], engine).toBe('/home/u/.handoff/deployments/d1/nixl-telemetry/decode-1');
      expect(proc(p, 'prefill-0').env['NIXL_TELEMETRY_ENABLE'], engine).toBeUndefined();
    }
  });

  it('leaves telemetry off without a deployment directory, and lets the spec env override it (mocker; real vLLM refuses 0)', () => {
    expect(proc(okPlan(disagg()), 'decode-0').env['NIXL_TELEMETRY_ENABLE']).toBeUndefined();
    const p = okPlan(disagg({ engine: 'mocker', env: { NIXL_TELEMETRY_ENABLE: '0' } }), undefined, dirs);
    expect(proc(p, 'decode-0').env['NIXL_TELEMETRY_ENABLE']).toBe('0');
    const q = okPlan(disagg({ env: { NIXL_TELEMETRY_RUN_INTERVAL: '100' } }), undefined, dirs);
    expect(proc(q, 'decode-0').env['NIXL_TELEMETRY_RUN_INTERVAL']).toBe('100');
  });
});
