import { z } from 'zod';
import { CpuList } from '../cpu-list';

/**
 * The deployment spec (`apiVersion: handoff/v1`), written by people in YAML or JSON and by the
 * wizard. Strict objects everywhere: a misspelt key is an error with its line, never silently
 * ignored. Field-by-field documentation with examples: docs/deployment-spec.md.
 */
export const SPEC_API_VERSION = 'handoff/v1';

/** Where the spec names a host: a saved host name (`this-computer` is the local machine). */
const HostName = z.string().min(1);

const Name = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'use lowercase letters, digits and dashes (it names directories and processes)');

const PositiveInt = z.int().min(1);
const Port = z.int().min(1).max(65535);
const EnvMap = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names are letters, digits and _'), z.string());

export const ModelSpec = z.strictObject({
  /** Hugging Face id (`org/name`) or an absolute path to a model directory on the worker hosts. */
  path: z.string().min(1),
  /** Name clients put in `"model"`; vLLM's `--served-model-name`. Defaults to `path`. */
  servedName: z.string().min(1).optional(),
});
export type ModelSpec = z.infer<typeof ModelSpec>;

export const Engine = z.enum(['vllm', 'mocker']);
export type Engine = z.infer<typeof Engine>;
export const DeploymentMode = z.enum(['aggregated', 'disaggregated']);
export type DeploymentMode = z.infer<typeof DeploymentMode>;
export const WorkerRole = z.enum(['prefill', 'decode', 'both']);
export type WorkerRole = z.infer<typeof WorkerRole>;

/** vLLM options that a worker group may override. */
export const VllmGroupOptions = z.strictObject({
  enforceEager: z.boolean().optional(),
  blockSize: PositiveInt.optional(),
  maxModelLen: PositiveInt.optional(),
  gpuMemoryUtilization: z.number().gt(0).max(1).optional(),
  /** Appended verbatim after the planner's arguments (one array item per argv word). */
  extraArgs: z.array(z.string()).optional(),
});
export type VllmGroupOptions = z.infer<typeof VllmGroupOptions>;

export const VllmOptions = VllmGroupOptions.extend({
  /** How long a worker may take to answer GET /health with 200 (model load, warm-up). */
  startupTimeoutS: PositiveInt.optional(),
  /** Only used on hosts without a GPU (vLLM's CPU build). */
  cpu: z
    .strictObject({
      /** VLLM_CPU_KVCACHE_SPACE, whole GiB. */
      kvCacheSpaceGiB: PositiveInt.optional(),
      /** VLLM_CPU_OMP_THREADS_BIND, e.g. `0-3`, `0-1|2-3` (one range per TP rank), `auto`, `nobind`. */
      ompThreadsBind: z.string().min(1).optional(),
    })
    .optional(),
});
export type VllmOptions = z.infer<typeof VllmOptions>;

export const WorkerGroupSpec = z.strictObject({
  /** Names the group's processes `<name>-<index>`. Defaults to the role (plus a number if repeated). */
  name: Name.optional(),
  /** `prefill` / `decode` in disaggregated mode; `both` (the default) in aggregated mode. */
  role: WorkerRole.optional(),
  host: HostName.optional(),
  /** Tensor-parallel size of each instance. */
  tp: PositiveInt.optional(),
  /** Number of instances. With a flat `gpus` list it is split into `replicas` equal parts. */
  replicas: PositiveInt.optional(),
  /** GPU ids: `[1, 2]` for one instance, or `[[0], [1]]` for one list per instance. Omit to pick free GPUs. */
  gpus: z.union([z.array(z.int().min(0)), z.array(z.array(z.int().min(0)).min(1))]).optional(),
  /** First HTTP port; instance i listens on port + i. Omit to pick free ports (prefill 8100+, decode 8200+). */
  port: Port.optional(),
  /** Python interpreter (or virtual environment directory) on the host that runs vLLM. */
  python: z.string().min(1).optional(),
  /**
   * CPUs of the host the group's processes run on (`0-15`, `0,2,4`), through `taskset -c`: e.g. the
   * cores next to the group's GPUs, or a CPU engine's own cores away from the router and the
   * benchmark client. Every instance of the group shares the list. Omit to run anywhere.
   */
  cpus: CpuList.optional(),
  vllm: VllmGroupOptions.optional(),
  env: EnvMap.optional(),
});
export type WorkerGroupSpec = z.infer<typeof WorkerGroupSpec>;

export const RouterSpec = z.strictObject({
  /** Host that runs the router. Defaults to the host of the first decode (or aggregated) group. */
  host: HostName.optional(),
  port: Port.default(8181),
  /** Address the router listens on. Reach it from the desktop through an SSH forward. */
  bind: z.string().min(1).default('127.0.0.1'),
  policy: z.enum(['least-outstanding']).default('least-outstanding'),
  /** Conditional disaggregation (disaggregated mode only). */
  disaggregation: z
    .strictObject({
      /** Prompts with fewer tokens than this are prefilled locally on the decode worker. 0 = always remote. */
      remotePrefillMinTokens: z.int().min(0).default(0),
      /** When every prefill worker has more than this many requests outstanding, prefill locally. */
      prefillQueueLimit: z.int().min(0).optional(),
    })
    .prefault({}),
  /** Where the router writes its per-request trace (JSONL). Default: `router-traces.jsonl` in the deployment directory. */
  traceFile: z.string().min(1).optional(),
  /** CPUs of its host the router runs on (`taskset -c` list). Omit to run anywhere. */
  cpus: CpuList.optional(),
});
export type RouterSpec = z.infer<typeof RouterSpec>;

export const KvConnector = z.enum(['NixlConnector', 'NixlPullConnector', 'NixlPushConnector']);
export type KvConnector = z.infer<typeof KvConnector>;

export const KvTransferSpec = z.strictObject({
  /** `NixlConnector` (= pull: decode reads from prefill) or `NixlPushConnector` (prefill writes into decode). */
  connector: KvConnector.default('NixlConnector'),
  /** `kv_buffer_device`. Default: vLLM's (`cuda`) on GPU hosts, `cpu` on hosts without a GPU. */
  bufferDevice: z.enum(['cuda', 'cpu']).optional(),
  /** `kv_load_failure_policy`: `fail` ends the request with an error, `recompute` prefills on decode. */
  loadFailurePolicy: z.enum(['fail', 'recompute']).default('fail'),
  /** First VLLM_NIXL_SIDE_CHANNEL_PORT on each host; each instance reserves TP ports from there. */
  sideChannelBasePort: Port.default(5600),
  /** `kv_connector_extra_config`, passed through (e.g. `backends: [UCX]`, `num_threads: 4`). */
  extraConfig: z.record(z.string(), z.unknown()).optional(),
  ucx: z
    .strictObject({
      /** UCX_TLS, e.g. `rc,ud,sm,^cuda_ipc`. */
      tls: z.string().min(1).optional(),
      /** UCX_NET_DEVICES, e.g. `mlx5_0:1,mlx5_1:1`. */
      netDevices: z.string().min(1).default('all'),
    })
    .prefault({}),
});
export type KvTransferSpec = z.infer<typeof KvTransferSpec>;

export const RestartSpec = z.strictObject({
  policy: z.enum(['off', 'on-failure']).default('off'),
  maxRestarts: z.int().min(0).default(3),
  backoffS: z.number().min(0).default(5),
});
export type RestartSpec = z.infer<typeof RestartSpec>;

/** Simulated-engine options, passed to `handoff-agent mocker` as `--mocker-<kebab-key> <value>`. */
export const MockerSpec = z.strictObject({
  /** JSON latency profile on the host (`--mocker-profile`). */
  profile: z.string().min(1).optional(),
  /** Any other `--mocker-*` flag: `{ prefillTokensPerS: 12000 }` → `--mocker-prefill-tokens-per-s 12000`; `true` → bare flag. */
  options: z.record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9-]*$/), z.union([z.string(), z.number(), z.boolean()])).optional(),
});
export type MockerSpec = z.infer<typeof MockerSpec>;

export const HostOverrideSpec = z.strictObject({
  /** Address other hosts use to reach this one (side channel, router → worker). Default: the SSH address. */
  address: z.string().min(1).optional(),
  /** Default Python environment for vLLM on this host. */
  python: z.string().min(1).optional(),
});
export type HostOverrideSpec = z.infer<typeof HostOverrideSpec>;

export const DeploymentSpec = z.strictObject({
  apiVersion: z.literal(SPEC_API_VERSION, { error: `must be "${SPEC_API_VERSION}"` }),
  name: Name,
  description: z.string().optional(),
  model: z.union([z.string().min(1).transform((path): ModelSpec => ({ path })), ModelSpec]),
  engine: Engine.default('vllm'),
  mode: DeploymentMode.default('aggregated'),
  workers: z.array(WorkerGroupSpec).min(1, 'a deployment needs at least one worker group'),
  router: RouterSpec.prefault({}),
  vllm: VllmOptions.prefault({}),
  kvTransfer: KvTransferSpec.prefault({}),
  mocker: MockerSpec.prefault({}),
  hosts: z.record(HostName, HostOverrideSpec).default({}),
  /** Added to every process of the deployment (groups add their own on top). */
  env: EnvMap.default({}),
  restart: RestartSpec.prefault({}),
});
export type DeploymentSpec = z.infer<typeof DeploymentSpec>;
export type DeploymentSpecInput = z.input<typeof DeploymentSpec>;
