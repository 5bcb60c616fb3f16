import { z } from 'zod';

/** USER@HOST[:PORT] as typed on the CLI and in the add-host form. */
export const SshTarget = z.object({
  user: z.string().min(1).optional(),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).optional(),
});
export type SshTarget = z.infer<typeof SshTarget>;

/** A saved host, as kept in hosts.json. Holds no secrets: keys are referenced by path, passphrases never stored. */
export const HostConfig = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('local'),
    name: z.string().min(1),
    addedAt: z.string(),
  }),
  z.object({
    kind: z.literal('ssh'),
    name: z.string().min(1),
    target: SshTarget,
    identityFile: z.string().optional(),
    jump: SshTarget.optional(),
    addedAt: z.string(),
  }),
]);
export type HostConfig = z.infer<typeof HostConfig>;

export const HostsFile = z.object({
  version: z.literal(1),
  hosts: z.array(HostConfig),
});
export type HostsFile = z.infer<typeof HostsFile>;

export const LOCAL_HOST_NAME = 'this-computer';

export const GpuInfo = z.object({
  index: z.number().int(),
  name: z.string(),
  uuid: z.string(),
  memoryTotalMiB: z.number(),
  memoryUsedMiB: z.number(),
  utilizationPct: z.number().nullable(),
  driverVersion: z.string(),
});
export type GpuInfo = z.infer<typeof GpuInfo>;

/** `nvidia-smi topo -m` parsed: labels are row/column names (GPU0…, NIC0…), cells like NV18, PIX, SYS, X. */
export const GpuTopology = z.object({
  labels: z.array(z.string()),
  matrix: z.array(z.array(z.string())),
  cpuAffinity: z.record(z.string(), z.string()).default({}),
  numaAffinity: z.record(z.string(), z.string()).default({}),
  nics: z.record(z.string(), z.string()).default({}),
  raw: z.string(),
});
export type GpuTopology = z.infer<typeof GpuTopology>;

export const PythonEnv = z.object({
  path: z.string(),
  version: z.string(),
  /** Package name → version; null when the package is not installed in that interpreter. */
  packages: z.record(z.string(), z.string().nullable()),
});
export type PythonEnv = z.infer<typeof PythonEnv>;

/** A tool that may be missing: missing is a normal answer, not an error. */
export const ToolVersion = z.object({ found: z.boolean(), version: z.string().nullable(), detail: z.string().optional() });
export type ToolVersion = z.infer<typeof ToolVersion>;

/** A model directory found on a host: a Hugging Face cache entry, or a path the controller asked about. */
export const LocalModel = z.object({
  /** Hub id (`org/name`) for cache entries, the path itself for directories. */
  name: z.string(),
  path: z.string(),
  source: z.enum(['hf-cache', 'path']),
});
export type LocalModel = z.infer<typeof LocalModel>;

export const HostInfo = z.object({
  hostname: z.string(),
  os: z.object({ platform: z.string(), release: z.string(), prettyName: z.string().nullable() }),
  kernel: z.string(),
  arch: z.string(),
  glibc: z.string().nullable(),
  cpus: z.object({ count: z.number().int(), model: z.string() }),
  memoryBytes: z.number(),
  diskFreeBytesHome: z.number().nullable(),
  nvidiaSmi: ToolVersion,
  gpus: z.array(GpuInfo),
  topology: GpuTopology.nullable(),
  cudaVersion: z.string().nullable(),
  driverVersion: z.string().nullable(),
  pythons: z.array(PythonEnv),
  /** Optional: absent when discovery did not look; the planner then cannot check local model paths. */
  models: z.array(LocalModel).optional(),
  ucx: ToolVersion,
  docker: ToolVersion,
  nvcc: ToolVersion,
  agentVersion: z.string(),
  collectedAt: z.string(),
});
export type HostInfo = z.infer<typeof HostInfo>;

export const HostState = z.enum(['unknown', 'checking', 'connected', 'unreachable', 'needs-trust', 'auth-failed', 'agent-outdated', 'error']);
export type HostState = z.infer<typeof HostState>;

export const HostStatus = z.object({
  config: HostConfig,
  state: HostState,
  message: z.string().optional(),
  info: HostInfo.nullable(),
  checkedAt: z.string().nullable(),
});
export type HostStatus = z.infer<typeof HostStatus>;

/** Parses USER@HOST[:PORT] (IPv6 in brackets: USER@[::1]:22). */
export function parseSshTarget(text: string): SshTarget | null {
  const m = /^(?:([^@\s]+)@)?(\[[^\]]+\]|[^:@\s]+)(?::(\d{1,5}))?$/.exec(text.trim());
  if (!m) return null;
  const host = m[2]!.replace(/^\[|\]$/g, '');
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && (port < 1 || port > 65535)) return null;
  return { ...(m[1] ? { user: m[1] } : {}), host, ...(port ? { port } : {}) };
}

export function formatSshTarget(t: SshTarget): string {
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  return `${t.user ? t.user + '@' : ''}${host}${t.port ? ':' + t.port : ''}`;
}

/** The result of a host check task. */
export const HostCheckResult = z.object({
  status: HostStatus,
  agent: z.object({
    version: z.string(),
    uploadedBundle: z.boolean(),
    uploadedRuntime: z.boolean(),
    replacedVersion: z.string().nullable(),
    daemonPid: z.number().int(),
  }),
  durationMs: z.number(),
});
export type HostCheckResult = z.infer<typeof HostCheckResult>;
