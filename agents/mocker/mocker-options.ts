/**
 * Turns a `vllm serve` command line plus environment into the mocker's resolved configuration:
 * model shape, simulated GPU and KV pool, P/D connector settings (reference/vllm-disagg.md §1.2–1.4)
 * and the latency profile. Every problem is a UserFacingError saying what to change.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { UserFacingError, describeZodError } from '../../common/errors';
import {
  GPU_TYPES,
  findBuiltinModel,
  findGpuType,
  kvBytesPerBlock,
  modelConfigFromHf,
  weightBytesPerWorker,
  BUILTIN_MODELS,
  type GpuType,
  type ModelConfig,
} from '../../common/model-config';
import { LatencyProfile, PartialLatencyProfile, defaultProfile } from './latency-model';
import { parseServeArgs } from './serve-args';
import type { KvRole } from './nixl-sim';

/** The vLLM release whose HTTP shapes, metrics and P/D protocol the mocker follows. */
export const DEFAULT_VLLM_VERSION = '0.32.0';

export const KvTransferConfig = z
  .object({
    kv_connector: z.string().nullable().optional(),
    kv_role: z.enum(['kv_producer', 'kv_consumer', 'kv_both']).nullable().optional(),
    engine_id: z.string().nullable().optional(),
    kv_buffer_device: z.string().optional(),
    kv_load_failure_policy: z.enum(['fail', 'recompute']).optional(),
    kv_connector_extra_config: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough()
  .superRefine((c, ctx) => {
    if (c.kv_connector && !c.kv_role) {
      ctx.addIssue({ code: 'custom', message: 'kv_role must be set when kv_connector is set (vLLM raises the same)' });
    }
  });
export type KvTransferConfig = z.infer<typeof KvTransferConfig>;

const NIXL_CONNECTORS = new Set(['NixlConnector', 'NixlPullConnector']);

export interface ConnectorSettings {
  role: KvRole;
  engineId: string | null;
  sideChannelHost: string;
  sideChannelPort: number;
  failurePolicy: 'fail' | 'recompute';
  leaseS: number;
  heartbeats: boolean;
  enforceHandshakeCompat: boolean;
}

export interface MockerConfig {
  modelPath: string;
  servedModelNames: string[];
  model: ModelConfig;
  modelSource: string;
  host: string;
  port: number;
  tp: number;
  blockSize: number;
  maxModelLen: number;
  gpuMemoryUtilization: number;
  gpu: GpuType;
  numBlocks: number;
  kvBytesPerBlock: number;
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  prefixCaching: boolean;
  apiKey: string | null;
  logStats: boolean;
  logStatsIntervalS: number;
  enablePromptTokensDetails: boolean;
  enableForceIncludeUsage: boolean;
  connector: ConnectorSettings | null;
  profile: LatencyProfile;
  seed: number;
  contextOverflow: 'clamp' | 'error';
  vllmVersion: string;
  warnings: string[];
}

/** "32k" (×1000), "32K" (×1024), "1m", "1M", "-1" (model default): vLLM's human-readable lengths. */
export function parseModelLen(raw: string): number | null {
  const m = /^(-?\d+(?:\.\d+)?)([kKmMgG]?)$/.exec(raw.trim());
  if (!m) throw new UserFacingError('bad-arguments', `--max-model-len "${raw}" is not a number (examples: 4096, 32k, 32K, -1).`);
  const n = Number(m[1]);
  if (n === -1) return null;
  const unit = m[2] ?? '';
  const mult: Record<string, number> = { '': 1, k: 1e3, K: 1024, m: 1e6, M: 1024 ** 2, g: 1e9, G: 1024 ** 3 };
  return Math.round(n * mult[unit]!);
}

function loadModel(modelPath: string, explicitConfig: string | undefined, warnings: string[]): { model: ModelConfig; source: string } {
  const readHf = (file: string): ModelConfig => {
    let json: unknown;
    try {
      json = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    } catch (err) {
      throw new UserFacingError('bad-model-config', `Could not read ${file} as JSON (${err instanceof Error ? err.message : String(err)}). Point --mocker-model-config at a Hugging Face config.json.`);
    }
    try {
      return modelConfigFromHf(modelPath, json);
    } catch (err) {
      const detail = err instanceof z.ZodError ? describeZodError(file, err) : String(err);
      throw new UserFacingError('bad-model-config', `${detail}. The mocker needs num_hidden_layers, num_attention_heads, hidden_size, intermediate_size and vocab_size from config.json.`);
    }
  };
  if (explicitConfig) return { model: readHf(explicitConfig), source: explicitConfig };
  const candidates = [path.join(modelPath, 'config.json'), modelPath.endsWith('config.json') ? modelPath : ''];
  for (const c of candidates) {
    if (c && fs.existsSync(c) && fs.statSync(c).isFile()) return { model: readHf(c), source: c };
  }
  const builtin = findBuiltinModel(modelPath);
  if (builtin) return { model: { ...builtin, name: modelPath }, source: `built-in table (${builtin.name})` };
  const fallback = findBuiltinModel('meta-llama/Llama-3.1-8B-Instruct')!;
  warnings.push(
    `model "${modelPath}" is not in the mocker's table and has no local config.json; simulating it with the shape of ${fallback.name}. ` +
      `Known models: ${BUILTIN_MODELS.map((m) => m.name).join(', ')}. Pass --mocker-model-config PATH/config.json for another shape.`,
  );
  return { model: { ...fallback, name: modelPath }, source: `fallback (${fallback.name})` };
}

function loadProfile(file: string | undefined): Record<string, unknown> {
  if (!file) return {};
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  } catch (err) {
    throw new UserFacingError('bad-profile', `Could not read the latency profile ${file} as JSON (${err instanceof Error ? err.message : String(err)}).`);
  }
  const r = PartialLatencyProfile.safeParse(json);
  if (!r.success) throw new UserFacingError('bad-profile', `${describeZodError(file, r.error)}. Allowed keys: ${Object.keys(LatencyProfile.shape).join(', ')}.`);
  return r.data;
}

const PROFILE_FLAGS: Record<string, keyof LatencyProfile> = {
  '--mocker-prefill-tokens-per-s': 'prefillTokensPerS',
  '--mocker-tp-efficiency': 'tpEfficiency',
  '--mocker-decode-base-ms': 'decodeBaseMs',
  '--mocker-decode-per-seq-ms': 'decodePerSeqMs',
  '--mocker-decode-per-ctx-token-us': 'decodePerCtxTokenUs',
  '--mocker-transfer-mode': 'transferMode',
  '--mocker-transfer-per-block-us': 'transferPerBlockUs',
  '--mocker-transfer-descriptor-slowdown': 'transferDescriptorSlowdown',
  '--mocker-transfer-base-ms': 'transferBaseMs',
  '--mocker-eos-probability': 'eosProbability',
  '--mocker-time-scale': 'timeScale',
};

/** GPU memory vLLM keeps outside weights and KV (activations, CUDA graphs, allocator slack). */
const NON_KV_OVERHEAD_BYTES = 1.5 * 1024 ** 3;

export function resolveMockerConfig(argv: readonly string[], env: NodeJS.ProcessEnv): MockerConfig {
  const parsed = parseServeArgs(argv);
  if (parsed.errors.length) throw new UserFacingError('bad-arguments', `Bad command line: ${parsed.errors.join('; ')}.`);
  const warnings = [...parsed.warnings];
  const v = parsed.values;
  const str = (k: string): string | undefined => (typeof v.get(k) === 'string' ? (v.get(k) as string) : undefined);
  const num = (k: string): number | undefined => (typeof v.get(k) === 'number' ? (v.get(k) as number) : undefined);
  const bool = (k: string): boolean | undefined => (typeof v.get(k) === 'boolean' ? (v.get(k) as boolean) : undefined);

  const modelPath = parsed.model;
  if (!modelPath) throw new UserFacingError('bad-arguments', 'No model given. Usage: mocker MODEL [--port N] [--served-model-name NAME] … (the same arguments as `vllm serve`).');
  const { model, source } = loadModel(modelPath, str('--mocker-model-config'), warnings);

  const tp = num('--tensor-parallel-size') ?? 1;
  if (!Number.isInteger(tp) || tp < 1) throw new UserFacingError('bad-arguments', `--tensor-parallel-size must be a positive integer, got ${tp}.`);
  const blockSize = num('--block-size') ?? 16;
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new UserFacingError('bad-arguments', `--block-size must be a positive integer, got ${blockSize}.`);
  const gpuMemoryUtilization = num('--gpu-memory-utilization') ?? 0.9;
  if (!(gpuMemoryUtilization > 0 && gpuMemoryUtilization <= 1)) throw new UserFacingError('bad-arguments', `--gpu-memory-utilization must be in (0, 1], got ${gpuMemoryUtilization}.`);
  const gpuName = str('--mocker-gpu') ?? 'H100-80GB';
  const gpu = findGpuType(gpuName);
  if (!gpu) throw new UserFacingError('bad-arguments', `Unknown --mocker-gpu "${gpuName}". Known: ${GPU_TYPES.map((g) => g.name).join(', ')}.`);
  const maxLenRaw = str('--max-model-len');
  const maxModelLen = (maxLenRaw === undefined ? null : parseModelLen(maxLenRaw)) ?? model.maxPositionEmbeddings;
  if (maxModelLen < 1) throw new UserFacingError('bad-arguments', `--max-model-len must be positive, got ${maxModelLen}.`);

  const blockBytes = kvBytesPerBlock(model, tp, blockSize);
  const weights = weightBytesPerWorker(model, tp);
  const budget = gpu.memoryBytes * gpuMemoryUtilization;
  const kvBytes = budget - weights - NON_KV_OVERHEAD_BYTES;
  const override = num('--num-gpu-blocks-override');
  const GiB = 1024 ** 3;
  let numBlocks: number;
  if (override !== undefined) {
    if (!Number.isInteger(override) || override < 1) throw new UserFacingError('bad-arguments', `--num-gpu-blocks-override must be a positive integer, got ${override}.`);
    numBlocks = override;
  } else {
    if (kvBytes <= 0) {
      throw new UserFacingError(
        'insufficient-gpu-memory',
        `No available memory for the cache blocks: the model needs ${(weights / GiB).toFixed(2)} GiB of weights per GPU but ${gpu.name} × ${gpuMemoryUtilization} gives ${(budget / GiB).toFixed(2)} GiB. ` +
          `Try increasing --gpu-memory-utilization or --tensor-parallel-size (simulated ${gpu.name}).`,
      );
    }
    numBlocks = Math.floor(kvBytes / blockBytes);
  }
  const neededBlocks = Math.ceil(maxModelLen / blockSize);
  if (numBlocks < neededBlocks) {
    const estimated = numBlocks * blockSize;
    throw new UserFacingError(
      'insufficient-kv-cache',
      `To serve at least one request with the model's max seq len (${maxModelLen}), ${((neededBlocks * blockBytes) / GiB).toFixed(2)} GiB KV cache is needed, which is larger than the available KV cache memory (${((numBlocks * blockBytes) / GiB).toFixed(2)} GiB). ` +
        `Based on the available memory, the estimated maximum model length is ${estimated}. Try increasing \`gpu_memory_utilization\` or decreasing \`max_model_len\` when initializing the engine.`,
    );
  }

  // Connector (reference §1.2–1.4).
  let connector: ConnectorSettings | null = null;
  const kvRaw = v.get('--kv-transfer-config');
  if (kvRaw !== undefined) {
    const r = KvTransferConfig.safeParse(kvRaw);
    if (!r.success) throw new UserFacingError('bad-arguments', `${describeZodError('--kv-transfer-config', r.error)}.`);
    const kv = r.data;
    if (kv.kv_connector && !NIXL_CONNECTORS.has(kv.kv_connector)) {
      warnings.push(`kv_connector "${kv.kv_connector}" is not simulated; the mocker speaks NixlConnector (pull mode) only, so KV transfer is off`);
    } else if (kv.kv_connector && kv.kv_role) {
      if (kv.kv_role === 'kv_both') warnings.push('kv_role "kv_both" is deprecated by vLLM\'s NIXL connector; use kv_producer or kv_consumer');
      const extra = kv.kv_connector_extra_config ?? {};
      const leaseExtra = extra['kv_lease_duration'];
      const envTimeout = env['VLLM_NIXL_ABORT_REQUEST_TIMEOUT'];
      let leaseS = 30;
      let heartbeats = true;
      if (typeof leaseExtra === 'number' || typeof leaseExtra === 'string') {
        leaseS = Number(leaseExtra);
      } else if (envTimeout !== undefined && envTimeout !== '') {
        // Older vLLM: a fixed timeout after which P frees unread blocks, no heartbeats.
        leaseS = Number(envTimeout);
        heartbeats = false;
      }
      if (!(leaseS > 0)) throw new UserFacingError('bad-arguments', `The KV lease (kv_lease_duration / VLLM_NIXL_ABORT_REQUEST_TIMEOUT) must be a positive number of seconds, got ${leaseS}.`);
      const portRaw = env['VLLM_NIXL_SIDE_CHANNEL_PORT'] ?? '5600';
      const sideChannelPort = Number(portRaw);
      if (!Number.isInteger(sideChannelPort) || sideChannelPort < 0 || sideChannelPort > 65535) {
        throw new UserFacingError('bad-arguments', `VLLM_NIXL_SIDE_CHANNEL_PORT must be a port number, got "${portRaw}".`);
      }
      const compat = extra['enforce_handshake_compat'];
      connector = {
        role: kv.kv_role,
        engineId: kv.engine_id ?? null,
        sideChannelHost: env['VLLM_NIXL_SIDE_CHANNEL_HOST'] || 'localhost',
        sideChannelPort,
        failurePolicy: kv.kv_load_failure_policy ?? 'fail',
        leaseS,
        heartbeats,
        enforceHandshakeCompat: !(compat === false || compat === 'false' || compat === 'False'),
      };
    }
  }

  const profileOverrides: Record<string, unknown> = { ...loadProfile(str('--mocker-profile')) };
  for (const [flag, key] of Object.entries(PROFILE_FLAGS)) {
    const val = v.get(flag);
    if (val !== undefined) profileOverrides[key] = val;
  }
  const merged = { ...defaultProfile(model, gpu, blockSize), ...profileOverrides };
  const pr = LatencyProfile.safeParse(merged);
  if (!pr.success) throw new UserFacingError('bad-profile', `${describeZodError('latency profile', pr.error)}.`);

  const overflow = str('--mocker-context-overflow') ?? 'clamp';
  if (overflow !== 'clamp' && overflow !== 'error') throw new UserFacingError('bad-arguments', `--mocker-context-overflow must be "clamp" (vLLM ≥ 0.2x) or "error" (older vLLM), got "${overflow}".`);
  const servedRaw = str('--served-model-name');
  const servedModelNames = servedRaw ? servedRaw.split(/\s+/).filter(Boolean) : [modelPath];
  const logInterval = Number(env['VLLM_LOG_STATS_INTERVAL'] ?? '10');
  const port = num('--port') ?? 8000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserFacingError('bad-arguments', `--port must be a port number, got ${port}.`);

  return {
    modelPath,
    servedModelNames,
    model,
    modelSource: source,
    host: str('--host') ?? '127.0.0.1',
    port,
    tp,
    blockSize,
    maxModelLen,
    gpuMemoryUtilization,
    gpu,
    numBlocks,
    kvBytesPerBlock: blockBytes,
    maxNumSeqs: num('--max-num-seqs') ?? 1024,
    maxNumBatchedTokens: num('--max-num-batched-tokens') ?? 8192,
    prefixCaching: bool('--enable-prefix-caching') ?? true,
    apiKey: str('--api-key') ?? (env['VLLM_API_KEY'] || null),
    logStats: !(bool('--disable-log-stats') ?? false),
    logStatsIntervalS: Number.isFinite(logInterval) && logInterval > 0 ? logInterval : 10,
    enablePromptTokensDetails: bool('--enable-prompt-tokens-details') ?? false,
    enableForceIncludeUsage: bool('--enable-force-include-usage') ?? false,
    connector,
    profile: pr.data,
    seed: num('--mocker-seed') ?? 0,
    contextOverflow: overflow,
    vllmVersion: str('--mocker-vllm-version') ?? DEFAULT_VLLM_VERSION,
    warnings,
  };
}
