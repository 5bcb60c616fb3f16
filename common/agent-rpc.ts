import { z } from 'zod';
import { HostInfo } from './host';
import { DeployMethods, DeployNotifications } from './deploy-rpc';
import { BenchMethods, BenchNotifications } from './bench-rpc';
import { ProbeMethods, ProbeNotifications } from './kv/fabric-probe';

/**
 * Every agent RPC method and notification, with its param and result schemas. Both ends import
 * this file: the controller to call and validate results, the agent to validate params.
 * Methods are `domain.verb`, notifications `domain.event` (CONVENTIONS.md).
 * Other domains (deploy.*, logs.*, bench.*, probe.*) register their schemas in their own
 * common/ files and are spread into these maps.
 */
export const AGENT_PROTOCOL_VERSION = 1;

export const AgentHelloParams = z.object({
  protocol: z.number().int(),
  clientVersion: z.string(),
});
export const AgentHelloResult = z.object({
  protocol: z.number().int(),
  agentVersion: z.string(),
  pid: z.number().int(),
  startedAt: z.string(),
  home: z.string(),
});

export const AgentMethods = {
  /** Must be the first call on every attach; the agent refuses other calls until it has succeeded. */
  'agent.hello': { params: AgentHelloParams, result: AgentHelloResult },
  'agent.ping': { params: z.object({}).optional(), result: z.object({ pong: z.literal(true), uptimeS: z.number() }) },
  /** Stops the daemon (used when replacing an outdated agent). */
  'agent.shutdown': { params: z.object({}).optional(), result: z.object({ ok: z.literal(true) }) },
  'agent.stats': { params: z.object({}).optional(), result: z.object({ rssBytes: z.number(), clients: z.number().int(), uptimeS: z.number() }) },
  'host.info': { params: z.object({ refresh: z.boolean().optional() }).optional(), result: HostInfo },
  ...DeployMethods,
  ...BenchMethods,
  ...ProbeMethods,
} as const;
export type AgentMethodName = keyof typeof AgentMethods;
export type AgentParams<M extends AgentMethodName> = z.input<(typeof AgentMethods)[M]['params']>;
export type AgentResult<M extends AgentMethodName> = z.infer<(typeof AgentMethods)[M]['result']>;

export const AgentNotifications = {
  'agent.log': z.object({ level: z.enum(['debug', 'info', 'warn', 'error']), msg: z.string(), ctx: z.record(z.string(), z.unknown()).optional() }),
  ...DeployNotifications,
  ...BenchNotifications,
  ...ProbeNotifications,
} as const;
export type AgentNotificationName = keyof typeof AgentNotifications;
