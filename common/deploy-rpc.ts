import { z } from 'zod';
import { CpuList } from './cpu-list';

/**
 * The supervisor's RPC surface (deploy.* and logs.*), spread into AgentMethods /
 * AgentNotifications in agent-rpc.ts. The controller turns a planner's DeploymentPlan into
 * deploy.apply params; the agent starts, watches, restarts and tears down the processes.
 */

/** Used in file names on the host, so a closed alphabet: no "/", no "..", no spaces. */
const SafeName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'use 1–128 letters, digits, ".", "_" or "-", starting with a letter or digit');

export const ProcessRole = z.enum(['prefill', 'decode', 'worker', 'both', 'router']);
export type ProcessRole = z.infer<typeof ProcessRole>;

export const RestartPolicy = z.enum(['off', 'on-failure']);
export type RestartPolicy = z.infer<typeof RestartPolicy>;

/** The restart rule as stored: `on-failure` restarts after a non-zero exit, a signal or an unknown exit. */
export const RestartRule = z.object({
  policy: RestartPolicy,
  maxRestarts: z.int().min(0).max(1000),
  /** First delay; doubles on each consecutive restart, capped at 60 s. */
  backoffS: z.number().min(0).max(3600),
});
export type RestartRule = z.infer<typeof RestartRule>;

const AbsolutePath = z
  .string()
  .refine((p) => p.startsWith('/') && !p.split('/').includes('..') && p.replace(/\/+$/, '').split('/').filter(Boolean).length >= 2, {
    message: 'must be an absolute path at least two levels deep, without ".." (it is deleted at teardown)',
  });

export const LaunchProcess = z.object({
  /** Unique in the deployment; names the log file `<name>.log`. */
  name: SafeName,
  role: ProcessRole,
  /** argv[0] may be `@handoff-agent`: the agent's own runtime and bundle (mocker, router). Never a shell string. */
  argv: z.array(z.string()).min(1, 'argv needs at least the program'),
  /** Added to the agent's environment for this process only. */
  env: z.record(z.string(), z.string()).default({}),
  /** Defaults to the deployment's directory. */
  cwd: z.string().optional(),
  /** CPUs the process and its children may run on (Linux list); started under `taskset -c`. */
  cpus: CpuList.optional(),
  port: z.int().min(1).max(65535),
  readiness: z.object({
    /** Probed from this host; ready when it answers HTTP 200. */
    url: z.url({ protocol: /^https?$/ }),
    timeoutS: z.number().positive().max(86_400),
  }),
  /** Prometheus endpoint for live charts; default: the readiness URL's origin + /metrics. */
  metricsUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** These must be ready before this one starts. */
  dependsOn: z.array(SafeName).default([]),
  /** A policy name, or the planner's {policy, maxRestarts, backoffS}. */
  restart: z.union([RestartPolicy, z.object({ policy: RestartPolicy, maxRestarts: z.int().min(0).optional(), backoffS: z.number().min(0).optional() })]).default('off'),
  maxRestarts: z.int().min(0).max(1000).optional(),
  restartBackoffS: z.number().min(0).max(3600).optional(),
  /** Files or directories the process creates (NIXL metadata, telemetry buffers), removed at teardown. */
  cleanupPaths: z.array(AbsolutePath).default([]),
});
export type LaunchProcess = z.infer<typeof LaunchProcess>;
export type LaunchProcessInput = z.input<typeof LaunchProcess>;

export const LogLimits = z.object({
  /** A log file is rotated once it grows past this. */
  maxBytes: z.int().min(1024).max(1024 ** 4).default(20 * 1024 * 1024),
  /** Rotated files kept (`<name>.log.1` … `.N`). */
  keep: z.int().min(1).max(20).default(3),
});
export type LogLimits = z.infer<typeof LogLimits>;

export const DeployApplyParams = z
  .object({
    deploymentId: SafeName,
    name: z.string().min(1).max(200),
    /** Mocker engines: every view labels the deployment as simulated. */
    simulated: z.boolean(),
    /** The spec it came from, kept verbatim for the record and for reconnecting controllers. */
    spec: z.unknown(),
    processes: z.array(LaunchProcess).min(1, 'a deployment needs at least one process'),
    logs: LogLimits.prefault({}),
    /** Return once every process is ready or has failed, rather than as soon as the start began. */
    wait: z.boolean().default(false),
  })
  .superRefine((d, ctx) => {
    const names = new Set<string>();
    d.processes.forEach((p, i) => {
      if (names.has(p.name)) ctx.addIssue({ code: 'custom', path: ['processes', i, 'name'], message: `process name "${p.name}" is used twice` });
      names.add(p.name);
    });
    d.processes.forEach((p, i) => {
      for (const dep of p.dependsOn) {
        if (dep === p.name) ctx.addIssue({ code: 'custom', path: ['processes', i, 'dependsOn'], message: `"${p.name}" depends on itself` });
        else if (!names.has(dep)) ctx.addIssue({ code: 'custom', path: ['processes', i, 'dependsOn'], message: `"${p.name}" depends on "${dep}", which is not a process of this deployment` });
      }
    });
    const cycle = findCycle(d.processes);
    if (cycle) ctx.addIssue({ code: 'custom', path: ['processes'], message: `dependsOn forms a cycle: ${cycle.join(' → ')}` });
  });
export type DeployApplyParams = z.infer<typeof DeployApplyParams>;
export type DeployApplyInput = z.input<typeof DeployApplyParams>;

/** The first dependency cycle found (names, first repeated at the end), or null. */
export function findCycle(procs: ReadonlyArray<{ name: string; dependsOn: readonly string[] }>): string[] | null {
  const deps = new Map(procs.map((p) => [p.name, p.dependsOn]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | null => {
    const s = state.get(n);
    if (s === 'done') return null;
    if (s === 'visiting') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'visiting');
    stack.push(n);
    for (const d of deps.get(n) ?? []) {
      if (!deps.has(d)) continue;
      const c = visit(d);
      if (c) return c;
    }
    stack.pop();
    state.set(n, 'done');
    return null;
  };
  for (const p of procs) {
    const c = visit(p.name);
    if (c) return c;
  }
  return null;
}

export const ProcessState = z.enum(['pending', 'starting', 'loading', 'ready', 'failed', 'crashed', 'exited', 'restarting', 'stopping', 'stopped']);
export type ProcessState = z.infer<typeof ProcessState>;

export const DeploymentState = z.enum(['starting', 'ready', 'degraded', 'failed', 'stopping', 'stopped']);
export type DeploymentState = z.infer<typeof DeploymentState>;

export const ProcessStatus = z.object({
  name: z.string(),
  role: ProcessRole,
  state: ProcessState,
  pid: z.int().nullable(),
  /** Equals pid: each process leads its own group (and session). */
  pgid: z.int().nullable(),
  /** /proc/<pid>/stat field 22 (clock ticks after boot): with pid, identifies the process across agent restarts. */
  startTime: z.int().nullable(),
  startedAt: z.string().nullable(),
  readyAt: z.string().nullable(),
  exitedAt: z.string().nullable(),
  exitCode: z.int().nullable(),
  signal: z.string().nullable(),
  /** False when the process exited while not a child of this daemon (re-adopted or exited while the agent was down): code and signal are unknown. */
  exitKnown: z.boolean(),
  restarts: z.int(),
  /** Last log lines at a crash, exit or failed start. */
  lastLogLines: z.array(z.string()),
  /** What the state means right now, for a person. */
  detail: z.string().nullable(),
  port: z.int(),
  readinessUrl: z.string(),
  metricsUrl: z.string(),
  logFile: z.string(),
  /** Picked up by a later daemon (by pid and start time) rather than started by this one. */
  adopted: z.boolean(),
});
export type ProcessStatus = z.infer<typeof ProcessStatus>;

export const DeploymentStatus = z.object({
  deploymentId: z.string(),
  name: z.string(),
  simulated: z.boolean(),
  state: DeploymentState,
  /** Why it failed or degraded, for a person. */
  error: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  stoppedAt: z.string().nullable(),
  dir: z.string(),
  spec: z.unknown(),
  processes: z.array(ProcessStatus),
});
export type DeploymentStatus = z.infer<typeof DeploymentStatus>;

export const DeployTeardownResult = z.object({
  deploymentId: z.string(),
  state: DeploymentState,
  /** Process groups that needed SIGKILL after the grace period. */
  killed: z.array(z.string()),
  removedPaths: z.array(z.string()),
});

export const LogLine = z.object({ process: z.string(), line: z.string() });

/**
 * Live-chart series per process, one number each (absent when the process does not expose it or
 * there is no previous scrape to take a rate from). Rates and percentiles are over the last
 * sampling interval (counter and histogram deltas).
 */
export const SAMPLE_KEYS = [
  'requestsPerS',
  'ttftP50Ms',
  'ttftP99Ms',
  'itlP50Ms',
  'itlMeanMs',
  'kvCacheUsagePct',
  'requestsRunning',
  'requestsWaiting',
  'generationTokensPerS',
  'kvBytesPerS',
  'externalPromptTokensPerS',
  'remotePrefillRatio',
  'outstandingRequests',
] as const;
export type SampleKey = (typeof SAMPLE_KEYS)[number];

export const DeploySample = z.object({
  deploymentId: z.string(),
  at: z.string(),
  perProcess: z.record(z.string(), z.record(z.string(), z.number())),
  /** Processes whose /metrics could not be read this time, with why. */
  errors: z.record(z.string(), z.string()).optional(),
});
export type DeploySample = z.infer<typeof DeploySample>;

const DeploymentRef = z.object({ deploymentId: SafeName });

export const DeployMethods = {
  /** Starts a deployment; returns when started (or, with wait, when every process is ready or failed). Follow deploy.progress. */
  'deploy.apply': { params: DeployApplyParams, result: z.object({ deploymentId: z.string(), state: DeploymentState, deployment: DeploymentStatus }) },
  'deploy.status': { params: z.object({ deploymentId: SafeName.optional() }).optional(), result: z.object({ deployments: z.array(DeploymentStatus) }) },
  /** SIGTERM to every process group, SIGKILL after graceS, verified empty; removes cleanupPaths. Idempotent. */
  'deploy.teardown': { params: DeploymentRef.extend({ graceS: z.number().min(0).max(600).default(10) }), result: DeployTeardownResult },
  /** Forgets a stopped deployment and deletes its directory (logs included). */
  'deploy.remove': { params: DeploymentRef, result: z.object({ removed: z.literal(true) }) },
  /** The latest samples (scrapes once now when none is fresh). */
  'deploy.metrics': { params: DeploymentRef.extend({ last: z.int().min(1).max(600).default(1) }), result: z.object({ samples: z.array(DeploySample) }) },
  /** deploy.sample notifications every intervalMs to this client until deploy.unwatch or disconnect. */
  'deploy.watch': { params: DeploymentRef, result: z.object({ watchId: z.string(), intervalMs: z.int() }) },
  'deploy.unwatch': { params: z.object({ watchId: z.string() }), result: z.object({ ok: z.boolean() }) },
  /** Last lines of one process's log, or of each; with follow, logs.line notifications until logs.unfollow or disconnect. */
  'logs.tail': {
    params: DeploymentRef.extend({ process: SafeName.optional(), lines: z.int().min(0).max(10_000).default(100), follow: z.boolean().default(false) }),
    result: z.object({ logs: z.array(z.object({ process: z.string(), file: z.string(), lines: z.array(z.string()) })), followId: z.string().nullable() }),
  },
  'logs.unfollow': { params: z.object({ followId: z.string() }), result: z.object({ ok: z.boolean() }) },
} as const;

export const DeployProgress = z.object({
  deploymentId: z.string(),
  process: z.string(),
  phase: z.enum(['starting', 'loading', 'ready', 'failed', 'exited', 'restarting', 'stopping', 'stopped']),
  detail: z.string().optional(),
  /** The deployment's state after this event. */
  deploymentState: DeploymentState,
  at: z.string(),
});
export type DeployProgress = z.infer<typeof DeployProgress>;

export const DeployNotifications = {
  'deploy.progress': DeployProgress,
  'deploy.sample': DeploySample,
  'logs.line': z.object({ deploymentId: z.string(), process: z.string(), line: z.string(), at: z.string(), followId: z.string() }),
} as const;

/** The status of a process that has not run (yet): no pid, no times, no exit. */
export function unstartedProcessStatus(
  p: Pick<ProcessStatus, 'name' | 'role' | 'state' | 'detail' | 'port' | 'readinessUrl' | 'metricsUrl' | 'logFile' | 'exitKnown'>,
): ProcessStatus {
  return { ...p, pid: null, pgid: null, startTime: null, startedAt: null, readyAt: null, exitedAt: null, exitCode: null, signal: null, restarts: 0, lastLogLines: [], adopted: false };
}
