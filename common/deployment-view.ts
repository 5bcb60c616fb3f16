import { z } from 'zod';
import { DeploymentState, ProcessState, ProcessStatus, SAMPLE_KEYS } from './deploy-rpc';
import { DeploymentPlan, Problem } from './deployment';

/**
 * What the controller keeps and shows about deployments (deployments.* in api-contract.ts): the
 * record saved in `$HANDOFF_HOME/deployments.json`, the list entry, and the merged status of
 * every host a deployment spans.
 */

/** The processes of one deployment that run on one host, applied to that host's agent as one agent deployment. */
export const DeploymentPart = z.object({
  host: z.string(),
  /** The id the host's agent knows it by: the deployment id, or `<id>-router` for a router started after workers on other hosts. */
  agentDeploymentId: z.string(),
  processes: z.array(z.string()).min(1),
  /** Applied only once the parts it depends on (on other hosts) are ready. */
  phase: z.int().min(0),
});
export type DeploymentPart = z.infer<typeof DeploymentPart>;

/** A state the controller could not learn (a host unreachable) is `unknown`. */
export const DeploymentViewState = z.union([DeploymentState, z.literal('unknown')]);
export type DeploymentViewState = z.infer<typeof DeploymentViewState>;

export const DeploymentRecord = z.object({
  id: z.string(),
  name: z.string(),
  /** engine: mocker — labelled simulated everywhere. */
  simulated: z.boolean(),
  createdAt: z.string(),
  /** Set once every host confirmed the teardown (or the start failed and was undone). */
  stoppedAt: z.string().nullable(),
  /** The spec file it came from, when it came from a file. */
  source: z.string().nullable(),
  /** The validated spec (defaults filled in). */
  spec: z.unknown(),
  plan: DeploymentPlan,
  parts: z.array(DeploymentPart).min(1),
  /** Last state learned from the hosts, and why it failed or degraded. */
  state: DeploymentViewState,
  error: z.string().nullable(),
});
export type DeploymentRecord = z.infer<typeof DeploymentRecord>;

export const DeploymentsFile = z.object({ version: z.literal(1), deployments: z.array(DeploymentRecord) });
export type DeploymentsFile = z.infer<typeof DeploymentsFile>;

export const DeploymentSummary = z.object({
  id: z.string(),
  name: z.string(),
  simulated: z.boolean(),
  engine: z.enum(['vllm', 'mocker']),
  mode: z.enum(['aggregated', 'disaggregated']),
  model: z.string(),
  hosts: z.array(z.string()),
  endpoint: DeploymentPlan.shape.endpoint,
  createdAt: z.string(),
  stoppedAt: z.string().nullable(),
  state: DeploymentViewState,
  error: z.string().nullable(),
  processCount: z.int(),
});
export type DeploymentSummary = z.infer<typeof DeploymentSummary>;

export const ProcessView = ProcessStatus.extend({
  /** `unknown` while its host cannot be asked. */
  state: z.union([ProcessState, z.literal('unknown')]),
  host: z.string(),
  group: z.string(),
  gpuIds: z.array(z.int()),
  /** Base URL the router uses to reach it (on its host). */
  url: z.string(),
});
export type ProcessView = z.infer<typeof ProcessView>;

export const DeploymentView = DeploymentSummary.extend({
  processes: z.array(ProcessView),
  /** Hosts that could not be asked; their processes show their last known state as `unknown`. */
  unreachable: z.array(z.object({ host: z.string(), message: z.string() })),
  plan: DeploymentPlan,
});
export type DeploymentView = z.infer<typeof DeploymentView>;

/** A spec given to deployments.plan / deployments.apply: its text (YAML or JSON) and where it came from. */
export const SpecInput = z.object({
  specText: z.string().max(1_000_000),
  /** Shown in problem messages (`spec.yaml:12:5: …`). */
  source: z.string().optional(),
});
export type SpecInput = z.infer<typeof SpecInput>;

export const PlanOutcome = z.object({
  ok: z.boolean(),
  /** Errors and warnings, with line and column when the spec came from text. */
  problems: z.array(Problem),
  /** The id the deployment would get (dry runs show its directories). */
  id: z.string().nullable(),
  plan: DeploymentPlan.nullable(),
  /** The plan as `handoff deploy --dry-run` prints it. */
  text: z.string().nullable(),
  simulated: z.boolean(),
  /** Hosts that could not be reached while planning (facts came from their last check). */
  notes: z.array(z.string()),
});
export type PlanOutcome = z.infer<typeof PlanOutcome>;

/** The final result of a deploy task. */
export const DeployTaskResult = z.object({
  id: z.string(),
  name: z.string(),
  simulated: z.boolean(),
  endpoint: DeploymentPlan.shape.endpoint,
  readyMs: z.number(),
});
export type DeployTaskResult = z.infer<typeof DeployTaskResult>;

export const DeploymentLogs = z.object({
  logs: z.array(z.object({ process: z.string(), host: z.string(), file: z.string(), lines: z.array(z.string()) })),
  /** With follow: lines arrive as deployments.log events carrying this id until deployments.unfollow. */
  followId: z.string().nullable(),
});
export type DeploymentLogs = z.infer<typeof DeploymentLogs>;

export const DeploymentLogLine = z.object({ followId: z.string(), id: z.string(), process: z.string(), host: z.string(), line: z.string(), at: z.string() });
export type DeploymentLogLine = z.infer<typeof DeploymentLogLine>;

/** Live-chart numbers of every process (SAMPLE_KEYS of common/deploy-rpc.ts), from one host's sampler. */
export const DeploymentSample = z.object({
  id: z.string(),
  host: z.string(),
  at: z.string(),
  perProcess: z.record(z.string(), z.record(z.string(), z.number())),
  errors: z.record(z.string(), z.string()).optional(),
});
export type DeploymentSample = z.infer<typeof DeploymentSample>;
export const DEPLOYMENT_SAMPLE_KEYS = SAMPLE_KEYS;

export const TeardownOutcome = z.object({
  id: z.string(),
  state: DeploymentViewState,
  hosts: z.array(z.object({ host: z.string(), killed: z.array(z.string()), removedPaths: z.array(z.string()) })),
});
export type TeardownOutcome = z.infer<typeof TeardownOutcome>;

export const ForwardInfo = z.object({
  id: z.string(),
  host: z.string(),
  localPort: z.int(),
  /** OpenAI base URL on this computer. */
  url: z.string(),
  /** The router's address on its host. */
  remote: z.string(),
});
export type ForwardInfo = z.infer<typeof ForwardInfo>;
