import { z } from 'zod';
import { Problem } from './problems';
import { RestartSpec } from './spec';

/**
 * What the planner hands to the supervisor: concrete launches (argv arrays + env, never shell
 * strings), ports, readiness probes and start order. Crosses the RPC boundary (deploy.apply), so
 * it is a schema too.
 */
export const Readiness = z.object({
  /** Full URL probed from the process's own host; ready when it answers HTTP 200. */
  url: z.string(),
  path: z.literal('/health'),
  timeoutS: z.number().positive(),
});
export type Readiness = z.infer<typeof Readiness>;

export const PlannedProcess = z.object({
  /** Unique in the deployment: `<group>-<index>` for workers, `router` for the router. */
  name: z.string(),
  kind: z.enum(['worker', 'router']),
  role: z.enum(['prefill', 'decode', 'both', 'router']),
  /** Worker group name (the router's is `router`). */
  group: z.string(),
  host: z.string(),
  engine: z.enum(['vllm', 'mocker', 'router']),
  argv: z.array(z.string()).min(1),
  /** Added to the agent's environment for this process only. */
  env: z.record(z.string(), z.string()),
  cwd: z.string().optional(),
  /** CPUs the process (and its children) may run on: the agent starts it under `taskset -c`. */
  cpus: z.string().optional(),
  /** HTTP listen address and port. */
  bindHost: z.string(),
  port: z.int(),
  /** Base URL other processes (the router) use to reach it. */
  url: z.string(),
  metricsUrl: z.string(),
  readiness: Readiness,
  /** Processes with a lower startOrder are started first; dependsOn must be ready before this one starts. */
  startOrder: z.int().min(0),
  dependsOn: z.array(z.string()),
  gpuIds: z.array(z.int()),
  tp: z.int().min(1),
  /** NIXL handshake listener (disaggregated workers only): host, base port and the reserved range. */
  sideChannel: z.object({ host: z.string(), port: z.int(), reservedPorts: z.array(z.int()) }).optional(),
  /** The host has no GPU: vLLM's CPU build. */
  cpuOnly: z.boolean(),
  restart: RestartSpec,
});
export type PlannedProcess = z.infer<typeof PlannedProcess>;

export const DeploymentPlan = z.object({
  name: z.string(),
  engine: z.enum(['vllm', 'mocker']),
  mode: z.enum(['aggregated', 'disaggregated']),
  model: z.object({ path: z.string(), servedName: z.string() }),
  processes: z.array(PlannedProcess),
  endpoint: z.object({
    host: z.string(),
    /** Router base URL on its host; the desktop reaches it through an SSH local forward. */
    url: z.string(),
    openaiBaseUrl: z.string(),
    model: z.string(),
  }),
  hosts: z.array(z.string()),
  /** Every port this plan listens on, per host (HTTP and NIXL side-channel ranges): the next plan's usedPorts. */
  portsByHost: z.record(z.string(), z.array(z.int())),
  /** GPUs this plan takes, per host: the next plan's busyGpus. */
  gpusByHost: z.record(z.string(), z.array(z.int())),
  warnings: z.array(Problem),
});
export type DeploymentPlan = z.infer<typeof DeploymentPlan>;
