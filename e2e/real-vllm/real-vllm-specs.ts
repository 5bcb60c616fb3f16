import type { DeploymentSpecInput } from '../../common/deployment/spec';
import { CPU_ENV, SERVED_MODEL } from './real-vllm-env';

/**
 * Deployment specs that run the real vLLM CPU build on the tiny model: what a user writes for a
 * host without a GPU. The planner adds kv_buffer_device "cpu" and VLLM_CPU_KVCACHE_SPACE itself;
 * these specs only keep the footprint small for a shared 2-core machine.
 */

export interface RealSpecOptions {
  host: string;
  /** Absolute path of the tiny model on the host. */
  model: string;
  /** Interpreter (or environment directory) on the host that has vLLM; omitted: the planner picks one from host discovery. */
  python?: string;
  /** First of a run of free ports: workers, router and side channels are placed from here. */
  basePort: number;
  /** CPUs for every worker and the router (see serverClientCpus); omitted: anywhere, OpenMP threads unbound. */
  serverCpus?: string;
}

const VLLM_OPTIONS = {
  // Eager mode skips torch.compile's C++ build on CPU (minutes on two cores) at a small decode cost.
  enforceEager: true,
  maxModelLen: 1024,
  startupTimeoutS: 900,
  cpu: { kvCacheSpaceGiB: 1 },
} as const;

/** Where the engine computes: the given CPUs (OpenMP threads bound to them by the planner), else anywhere, unbound. */
function vllmOptions(o: RealSpecOptions) {
  return o.serverCpus !== undefined ? VLLM_OPTIONS : { ...VLLM_OPTIONS, cpu: { ...VLLM_OPTIONS.cpu, ompThreadsBind: 'nobind' } };
}
const pinned = (o: RealSpecOptions) => (o.serverCpus !== undefined ? { cpus: o.serverCpus } : {});

/** Environment passed through the spec: everything in CPU_ENV that the planner does not own. */
function specEnv(): Record<string, string> {
  const { VLLM_CPU_KVCACHE_SPACE: _space, VLLM_CPU_OMP_THREADS_BIND: _bind, ...rest } = CPU_ENV;
  return rest;
}

export function aggregatedSpec(o: RealSpecOptions): DeploymentSpecInput {
  return {
    apiVersion: 'handoff/v1',
    name: 'real-vllm-aggregated',
    model: { path: o.model, servedName: SERVED_MODEL },
    engine: 'vllm',
    mode: 'aggregated',
    workers: [{ name: 'worker', role: 'both', host: o.host, port: o.basePort, ...pinned(o) }],
    router: { port: o.basePort + 1, ...pinned(o) },
    vllm: vllmOptions(o),
    ...(o.python ? { hosts: { [o.host]: { python: o.python } } } : {}),
    env: specEnv(),
  };
}

export function disaggregatedSpec(o: RealSpecOptions): DeploymentSpecInput {
  return {
    apiVersion: 'handoff/v1',
    name: 'real-vllm-disaggregated',
    model: { path: o.model, servedName: SERVED_MODEL },
    engine: 'vllm',
    mode: 'disaggregated',
    workers: [
      { name: 'prefill', role: 'prefill', host: o.host, port: o.basePort, ...pinned(o) },
      // vllm-cpu 0.32 with --enforce-eager kills a NIXL consumer's worker with SIGILL (in
      // cpu_attention_with_kv_cache) on its first remotely prefilled request; compiled, it works.
      { name: 'decode', role: 'decode', host: o.host, port: o.basePort + 1, vllm: { enforceEager: false }, ...pinned(o) },
    ],
    router: { port: o.basePort + 2, ...pinned(o) },
    vllm: vllmOptions(o),
    kvTransfer: { connector: 'NixlConnector', sideChannelBasePort: o.basePort + 3 },
    ...(o.python ? { hosts: { [o.host]: { python: o.python } } } : {}),
    env: specEnv(),
  };
}
