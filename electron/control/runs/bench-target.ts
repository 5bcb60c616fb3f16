import type { KvBlockInput, MetricsTarget } from '../../../common/bench-rpc';
import type { DeploymentRecord } from '../../../common/deployment-view';
import { UserFacingError } from '../../../common/errors';
import type { HostStatus } from '../../../common/host';
import { nixlFlushIntervalMs } from '../../../common/kv/nixl-telemetry-layout';
import type { RunDeployment } from '../../../common/run-record';

/** Where and against what a benchmark of a deployment runs: everything bench.start needs from the plan. */
export interface BenchTarget {
  /** The router's host: the load generator runs there, next to the endpoint. */
  host: string;
  /** Router base URL on that host (bench adds /v1/…). */
  endpoint: string;
  /** A worker's URL: the router does not serve /tokenize. */
  tokenizeUrl: string | undefined;
  metricsUrls: MetricsTarget[];
  traceFiles: string[];
  /** Decode workers whose NIXL writes per-transfer telemetry (planner: NIXL_TELEMETRY_DIR). */
  nixlTelemetry: Array<{ worker: string; dir: string; flushIntervalMs?: number }>;
  deployment: RunDeployment;
  /** The served model name, sent in every request. */
  servedModel: string;
  /** The model path or hub id, for tools that load its tokenizer. */
  modelPath: string;
  kvBlock: KvBlockInput | undefined;
  hosts: Array<{ name: string; hostname: string | null; gpus?: Array<{ index: number; name: string; memoryTotalMiB: number }>; driverVersion?: string | null; cudaVersion?: string | null }>;
}

function argValue(argv: readonly string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  if (i >= 0 && i + 1 < argv.length) return argv[i + 1];
  const eq = argv.find((a) => a.startsWith(`${flag}=`));
  return eq?.slice(flag.length + 1);
}

// vLLM's default KV block size on CUDA (and the mocker's, which follows vLLM's flags).
const DEFAULT_BLOCK_SIZE = 16;

/** Reads the plan of a deployment for a benchmark. Throws when it has no router or is stopped. */
export function benchTarget(record: DeploymentRecord, hostStatuses: readonly HostStatus[]): BenchTarget {
  if (record.stoppedAt || record.state === 'stopped') {
    throw new UserFacingError('deployment-stopped', `Deployment "${record.id}" is stopped. Start it again with "handoff deploy" before benchmarking it.`);
  }
  const plan = record.plan;
  const router = plan.processes.find((p) => p.kind === 'router');
  if (!router) throw new UserFacingError('deployment-no-router', `Deployment "${record.id}" has no router process, so there is no endpoint to benchmark.`);
  const workers = plan.processes.filter((p) => p.kind === 'worker');
  // Every worker is reachable from the router's host (the router talks to them), so /tokenize and /metrics are too.
  const tokenizer = workers.find((w) => w.role === 'decode' || w.role === 'both') ?? workers[0];
  const gpus = new Set(workers.flatMap((w) => w.gpuIds.map((g) => `${w.host}:${g}`)));
  const traceFile = argValue(router.argv, '--trace-file');
  const decode = workers.find((w) => w.role === 'decode');
  const blockSize = Number(argValue(decode?.argv ?? [], '--block-size') ?? DEFAULT_BLOCK_SIZE);
  const hosts = plan.hosts.map((name) => {
    const info = hostStatuses.find((h) => h.config.name === name)?.info ?? null;
    return {
      name,
      hostname: info?.hostname ?? null,
      ...(info ? { gpus: info.gpus.map((g) => ({ index: g.index, name: g.name, memoryTotalMiB: g.memoryTotalMiB })), driverVersion: info.driverVersion, cudaVersion: info.cudaVersion } : {}),
    };
  });
  return {
    host: router.host,
    endpoint: plan.endpoint.url,
    tokenizeUrl: tokenizer?.url,
    metricsUrls: [{ source: 'router', url: router.metricsUrl }, ...workers.map((w) => ({ source: w.name, url: w.metricsUrl }))],
    traceFiles: traceFile && traceFile.startsWith('/') ? [traceFile] : [],
    // Read by the agent on the router's host: only workers on that host (telemetry files are local).
    nixlTelemetry: workers.flatMap((w) => (w.host === router.host && w.env['NIXL_TELEMETRY_DIR']?.startsWith('/') && w.env['NIXL_TELEMETRY_ENABLE'] !== '0' ? [{ worker: w.name, dir: w.env['NIXL_TELEMETRY_DIR'], flushIntervalMs: nixlFlushIntervalMs(w.env) }] : [])),
    deployment: { name: record.name, mode: plan.mode, engine: plan.engine, model: plan.model.path, gpuCount: gpus.size },
    servedModel: plan.endpoint.model,
    modelPath: plan.model.path,
    kvBlock: plan.mode === 'disaggregated' && decode && Number.isInteger(blockSize) && blockSize > 0 ? { model: plan.model.path, tp: decode.tp, blockSize } : undefined,
    hosts,
  };
}
