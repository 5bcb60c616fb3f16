import crypto from 'node:crypto';
import type { DeploymentState, DeploymentStatus, LaunchProcessInput } from '../../../common/deploy-rpc';
import type { DeploymentPlan, PlannedProcess } from '../../../common/deployment';
import type { DeploymentPart, DeploymentRecord, DeploymentSummary, DeploymentViewState } from '../../../common/deployment-view';
import { UserFacingError } from '../../../common/errors';

/**
 * The pure part of deploying: ids, splitting a plan into one agent deployment per host, the
 * launches each agent gets, which GPUs and ports existing deployments hold, merging the hosts'
 * states, and finding a deployment from what a person typed.
 */

/** `<name>-<6 hex>`: readable in `~/.handoff/deployments/` on the hosts, unique enough to never collide. */
export function newDeploymentId(name: string): string {
  return `${name}-${crypto.randomBytes(3).toString('hex')}`;
}

/** The suffix of the agent deployment that holds a router started after workers on other hosts. */
const HELD_SUFFIX = '-router';

/**
 * One part per host, plus a later part for a process (the router) that needs processes on other
 * hosts: the agent only orders processes it runs, so those start once the other hosts report ready.
 * Parts are in start order: phase 0 (in parallel), then phase 1.
 */
export function splitPlan(plan: DeploymentPlan, id: string): DeploymentPart[] {
  const hostOf = new Map(plan.processes.map((p) => [p.name, p.host]));
  const phaseOf = (p: PlannedProcess) => (p.dependsOn.some((d) => hostOf.get(d) !== p.host) ? 1 : 0);
  const parts: DeploymentPart[] = [];
  for (const phase of [0, 1]) {
    for (const host of plan.hosts) {
      const procs = plan.processes.filter((p) => p.host === host && phaseOf(p) === phase).map((p) => p.name);
      if (procs.length === 0) continue;
      const hostHasEarlier = parts.some((x) => x.host === host);
      parts.push({ host, agentDeploymentId: hostHasEarlier ? `${id}${HELD_SUFFIX}` : id, processes: procs, phase });
    }
  }
  return parts;
}

/** What one host's agent is asked to run (deploy.apply processes): dependencies on other parts are the controller's to honour. */
export function launchesFor(plan: DeploymentPlan, part: DeploymentPart): LaunchProcessInput[] {
  const inPart = new Set(part.processes);
  return plan.processes
    .filter((p) => inPart.has(p.name))
    .map((p) => ({
      name: p.name,
      role: p.role,
      argv: p.argv,
      env: p.env,
      ...(p.cwd !== undefined ? { cwd: p.cwd } : {}),
      ...(p.cpus !== undefined ? { cpus: p.cpus } : {}),
      port: p.port,
      readiness: { url: p.readiness.url, timeoutS: p.readiness.timeoutS },
      metricsUrl: p.metricsUrl,
      dependsOn: p.dependsOn.filter((d) => inPart.has(d)),
      restart: { policy: p.restart.policy, maxRestarts: p.restart.maxRestarts, backoffS: p.restart.backoffS },
    }));
}

/** GPUs and ports held by deployments that still run. Simulated GPU ids never block anything (docs/deployment-spec.md). */
export function heldResources(records: readonly DeploymentRecord[]): { busyGpus: Record<string, number[]>; usedPorts: Record<string, number[]> } {
  const busyGpus: Record<string, number[]> = {};
  const usedPorts: Record<string, number[]> = {};
  for (const r of records) {
    if (r.stoppedAt !== null) continue;
    for (const [host, ports] of Object.entries(r.plan.portsByHost)) (usedPorts[host] ??= []).push(...ports);
    if (r.simulated) continue;
    for (const [host, gpus] of Object.entries(r.plan.gpusByHost)) (busyGpus[host] ??= []).push(...gpus);
  }
  return { busyGpus, usedPorts };
}

const STATE_RANK: DeploymentState[] = ['stopping', 'failed', 'degraded', 'starting', 'ready', 'stopped'];

/** One state for a deployment from its parts' states (null: the host could not be asked). */
export function mergeStates(states: ReadonlyArray<DeploymentState | null>): DeploymentViewState {
  if (states.length === 0) return 'unknown';
  if (states.every((s) => s === 'stopped')) return 'stopped';
  const known = states.filter((s): s is DeploymentState => s !== null);
  // Some parts stopped while others run: not what was deployed any more.
  if (known.includes('stopped') && known.some((s) => s === 'ready' || s === 'degraded')) return 'degraded';
  const worst = STATE_RANK.find((s) => s !== 'ready' && s !== 'stopped' && known.includes(s));
  if (worst) return worst;
  if (known.length < states.length) return 'unknown';
  return 'ready';
}

export function summarize(r: DeploymentRecord): DeploymentSummary {
  return {
    id: r.id,
    name: r.name,
    simulated: r.simulated,
    engine: r.plan.engine,
    mode: r.plan.mode,
    model: r.plan.model.servedName,
    hosts: r.plan.hosts,
    endpoint: r.plan.endpoint,
    createdAt: r.createdAt,
    stoppedAt: r.stoppedAt,
    state: r.stoppedAt !== null ? 'stopped' : r.state,
    error: r.error,
    processCount: r.plan.processes.length,
  };
}

/** The state a part's agent reported, from deploy.status. */
export function partState(status: DeploymentStatus | undefined): DeploymentState | null {
  return status?.state ?? null;
}

/**
 * Finds a deployment by id, unique id prefix, or name (a name matches the running deployment of
 * that name, else the newest stopped one). Ambiguity is an error listing the candidates.
 */
export function resolveDeployment(records: readonly DeploymentRecord[], ref: string): DeploymentRecord {
  const exact = records.find((r) => r.id === ref);
  if (exact) return exact;
  const newestFirst = [...records].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const ambiguous = (what: string, list: DeploymentRecord[]) =>
    new UserFacingError(
      'ambiguous-deployment',
      `"${ref}" matches ${list.length} deployments (${what}): ${list.map((r) => `${r.id}${r.stoppedAt ? ' (stopped)' : ''}`).join(', ')}. Give more of the id.`,
    );
  const byName = newestFirst.filter((r) => r.name === ref);
  if (byName.length) {
    const active = byName.filter((r) => r.stoppedAt === null);
    if (active.length === 1) return active[0]!;
    if (active.length > 1) throw ambiguous('by name', active);
    return byName[0]!;
  }
  const byPrefix = newestFirst.filter((r) => r.id.startsWith(ref));
  if (byPrefix.length === 1) return byPrefix[0]!;
  if (byPrefix.length > 1) {
    const active = byPrefix.filter((r) => r.stoppedAt === null);
    if (active.length === 1) return active[0]!;
    throw ambiguous('by id prefix', active.length ? active : byPrefix);
  }
  const known = newestFirst.slice(0, 5).map((r) => r.id);
  throw new UserFacingError(
    'unknown-deployment',
    `No deployment matches "${ref}"${known.length ? ` (recent: ${known.join(', ')})` : ''}. List them with "handoff deployments".`,
  );
}

/** Host names a spec mentions (groups and router), in order, defaulting like the planner. */
export function hostsNamedBy(spec: { workers: ReadonlyArray<{ host?: string | undefined }>; router: { host?: string | undefined } }, localName: string): string[] {
  const names = spec.workers.map((w) => w.host ?? localName);
  if (spec.router.host !== undefined) names.push(spec.router.host);
  return [...new Set(names)];
}
