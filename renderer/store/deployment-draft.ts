import YAML from 'yaml';
import { SPEC_API_VERSION, type DeploymentSpecInput, type WorkerGroupSpec } from '../../common/deployment/spec';
import { normalizeCpuList } from '../../common/cpu-list';
import { LOCAL_HOST_NAME, type HostStatus } from '../../common/host';

/**
 * The deployment wizard's form, and how it becomes a deployment spec (docs/deployment-spec.md).
 * The wizard writes the same YAML a person would, and the controller's planner judges it: the
 * form checks only what it must to write a spec at all (numbers that are not numbers).
 */
export type Engine = 'vllm' | 'mocker';
export type Mode = 'aggregated' | 'disaggregated';
export type GroupRole = 'both' | 'prefill' | 'decode';

export interface GroupDraft {
  /** React key; not written to the spec. */
  key: string;
  role: GroupRole;
  host: string;
  tp: number;
  replicas: number;
  /** Empty: the planner picks free GPUs (or none on hosts without a GPU). */
  gpus: number[];
  /** '' = automatic (prefill from 8100, decode from 8200). */
  port: string;
}

export interface WizardDraft {
  name: string;
  /** The name was typed, so engine and mode changes no longer rename it. */
  nameTouched: boolean;
  engine: Engine;
  /** Chosen by the user; until then the mocker is preselected when no host has a GPU. */
  engineTouched: boolean;
  model: string;
  servedName: string;
  mode: Mode;
  /** Separate group lists per mode, so switching back and forth keeps both. */
  groups: Record<Mode, GroupDraft[]>;
  routerHost: string;
  routerPort: string;
  /** CPU list (`taskset -c`) for every worker group; '' = anywhere. */
  workerCpus: string;
  /** CPU list for the router; '' = anywhere. */
  routerCpus: string;
  enforceEager: boolean;
  blockSize: string;
  maxModelLen: string;
  gpuMemoryUtilization: string;
  remotePrefillMinTokens: string;
  prefillQueueLimit: string;
  sideChannelBasePort: string;
  connector: 'NixlConnector' | 'NixlPushConnector';
  /** One argv word per line. */
  extraArgs: string;
  /** KEY=VALUE per line. */
  env: string;
  /** A spec the user wrote or pasted: when set, it is deployed instead of the form. */
  yaml: string | null;
}

export const DEFAULT_MODEL = 'deepseek-ai/DeepSeek-R1-Distill-Llama-8B';

let nextKey = 1;
export const newGroupKey = (): string => `g${nextKey++}`;

export function hostHasGpus(h: HostStatus | undefined): boolean {
  return (h?.info?.gpus.length ?? 0) > 0;
}

/** Mocker when no saved host has a GPU (nothing else could run), else vLLM. */
export function suggestedEngine(hosts: readonly HostStatus[]): Engine {
  return hosts.some(hostHasGpus) ? 'vllm' : 'mocker';
}

/** A host with GPUs for vLLM, else this computer. */
export function suggestedHost(hosts: readonly HostStatus[], engine: Engine): string {
  if (engine === 'vllm') {
    const gpuHost = hosts.find(hostHasGpus);
    if (gpuHost) return gpuHost.config.name;
  }
  return hosts.find((h) => h.config.kind === 'local')?.config.name ?? LOCAL_HOST_NAME;
}

/** The seed's layouts: one worker on GPU 0; prefill on GPU 0 and decode on the next GPU. */
export function defaultGroups(host: string, withGpus: boolean): Record<Mode, GroupDraft[]> {
  const g = (role: GroupRole, gpus: number[]): GroupDraft => ({ key: newGroupKey(), role, host, tp: 1, replicas: 1, gpus: withGpus ? gpus : [], port: '' });
  return { aggregated: [g('both', [0])], disaggregated: [g('prefill', [0]), g('decode', [1])] };
}

export function defaultName(engine: Engine, mode: Mode): string {
  return `${engine}-${mode === 'aggregated' ? 'aggregated' : 'disaggregated'}`;
}

export function initialDraft(hosts: readonly HostStatus[]): WizardDraft {
  const engine = suggestedEngine(hosts);
  const host = suggestedHost(hosts, engine);
  const withGpus = engine === 'mocker' || hostHasGpus(hosts.find((h) => h.config.name === host));
  return {
    name: defaultName(engine, 'aggregated'),
    nameTouched: false,
    engine,
    engineTouched: false,
    model: DEFAULT_MODEL,
    servedName: '',
    mode: 'aggregated',
    groups: defaultGroups(host, withGpus),
    routerHost: '',
    routerPort: '8181',
    workerCpus: '',
    routerCpus: '',
    enforceEager: true,
    blockSize: '',
    maxModelLen: '',
    gpuMemoryUtilization: '',
    remotePrefillMinTokens: '',
    prefillQueueLimit: '',
    sideChannelBasePort: '',
    connector: 'NixlConnector',
    extraArgs: '',
    env: '',
    yaml: null,
  };
}

/** A form field the wizard could not turn into a spec value; shown next to the field and in the review. */
export interface FieldProblem {
  field: keyof WizardDraft | `groups.${number}.port`;
  message: string;
}

/** A CPU list field in the shortest form, or undefined when empty or malformed (then a problem says why). */
function cpusField(text: string, field: FieldProblem['field'], label: string, problems: FieldProblem[]): string | undefined {
  if (text.trim() === '') return undefined;
  const r = normalizeCpuList(text);
  if (r.ok) return r.cpus;
  problems.push({ field, message: `${label}: ${r.reason}.` });
  return undefined;
}

function intField(text: string, field: FieldProblem['field'], label: string, min: number, max: number, problems: FieldProblem[]): number | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  const n = Number(t);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push({ field, message: `${label} must be a whole number from ${min} to ${max}; "${t}" is not. Clear it to use the default.` });
    return undefined;
  }
  return n;
}

function parseEnv(text: string, problems: FieldProblem[]): Record<string, string> {
  const env: Record<string, string> = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq <= 0) {
      problems.push({ field: 'env', message: `Environment line ${i + 1} ("${line}") is not KEY=VALUE.` });
      return;
    }
    env[line.slice(0, eq).trim()] = line.slice(eq + 1);
  });
  return env;
}

/** The groups of the chosen mode as spec worker groups. */
function groupSpecs(draft: WizardDraft, problems: FieldProblem[]): WorkerGroupSpec[] {
  const counts = new Map<GroupRole, number>();
  const cpus = cpusField(draft.workerCpus, 'workerCpus', 'Worker CPUs', problems);
  return draft.groups[draft.mode].map((g, i) => {
    const n = (counts.get(g.role) ?? 0) + 1;
    counts.set(g.role, n);
    const roleName = g.role === 'both' ? 'worker' : g.role;
    const out: WorkerGroupSpec = { name: n === 1 ? roleName : `${roleName}${n}`, host: g.host };
    if (draft.mode === 'disaggregated') out.role = g.role;
    out.tp = g.tp;
    if (g.replicas !== 1) out.replicas = g.replicas;
    if (g.gpus.length > 0) out.gpus = [...g.gpus].sort((a, b) => a - b);
    const port = intField(g.port, `groups.${i}.port`, `The port of group ${i + 1}`, 1, 65535, problems);
    if (port !== undefined) out.port = port;
    if (cpus !== undefined) out.cpus = cpus;
    return out;
  });
}

/** The spec the form describes, and the fields that could not be written into it. */
export function draftToSpec(draft: WizardDraft): { spec: DeploymentSpecInput; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const disagg = draft.mode === 'disaggregated';
  const spec: DeploymentSpecInput = {
    apiVersion: SPEC_API_VERSION,
    name: draft.name.trim(),
    model: draft.servedName.trim() ? { path: draft.model.trim(), servedName: draft.servedName.trim() } : draft.model.trim(),
    engine: draft.engine,
    mode: draft.mode,
    workers: groupSpecs(draft, problems),
  };
  const router: NonNullable<DeploymentSpecInput['router']> = {};
  if (draft.routerHost) router.host = draft.routerHost;
  const port = intField(draft.routerPort, 'routerPort', 'The router port', 1, 65535, problems);
  if (port !== undefined) router.port = port;
  const routerCpus = cpusField(draft.routerCpus, 'routerCpus', 'Router CPUs', problems);
  if (routerCpus !== undefined) router.cpus = routerCpus;
  if (disagg) {
    const minTokens = intField(draft.remotePrefillMinTokens, 'remotePrefillMinTokens', 'The remote-prefill threshold', 0, 10_000_000, problems);
    const queue = intField(draft.prefillQueueLimit, 'prefillQueueLimit', 'The prefill queue limit', 0, 1_000_000, problems);
    if (minTokens !== undefined || queue !== undefined) {
      router.disaggregation = { ...(minTokens !== undefined ? { remotePrefillMinTokens: minTokens } : {}), ...(queue !== undefined ? { prefillQueueLimit: queue } : {}) };
    }
  }
  if (Object.keys(router).length) spec.router = router;

  const vllm: NonNullable<DeploymentSpecInput['vllm']> = {};
  if (draft.enforceEager) vllm.enforceEager = true;
  const blockSize = intField(draft.blockSize, 'blockSize', 'The block size', 1, 1024, problems);
  if (blockSize !== undefined) vllm.blockSize = blockSize;
  const maxLen = intField(draft.maxModelLen, 'maxModelLen', 'The max model length', 1, 100_000_000, problems);
  if (maxLen !== undefined) vllm.maxModelLen = maxLen;
  const util = draft.gpuMemoryUtilization.trim();
  if (util !== '') {
    const u = Number(util);
    if (!(u > 0 && u <= 1)) problems.push({ field: 'gpuMemoryUtilization', message: `GPU memory utilization is a fraction above 0 and at most 1 (e.g. 0.9); "${util}" is not.` });
    else vllm.gpuMemoryUtilization = u;
  }
  const extra = draft.extraArgs.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (extra.length) vllm.extraArgs = extra;
  if (Object.keys(vllm).length) spec.vllm = vllm;

  if (disagg) {
    const kv: NonNullable<DeploymentSpecInput['kvTransfer']> = { connector: draft.connector };
    const base = intField(draft.sideChannelBasePort, 'sideChannelBasePort', 'The NIXL side-channel base port', 1, 65535, problems);
    if (base !== undefined) kv.sideChannelBasePort = base;
    spec.kvTransfer = kv;
  }
  const env = parseEnv(draft.env, problems);
  if (Object.keys(env).length) spec.env = env;
  return { spec, problems };
}

/** The spec as YAML, the way the docs write it (`gpus: [1, 2]`, lists of plain values on one line). */
export function specToYaml(spec: DeploymentSpecInput): string {
  const doc = new YAML.Document(spec);
  YAML.visit(doc, {
    Seq(_, node) {
      if (node.items.every((item) => YAML.isScalar(item))) node.flow = true;
    },
  });
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/** The text the review plans and Deploy starts: the user's own YAML, or the form's. */
export function draftSpecText(draft: WizardDraft): { text: string; problems: FieldProblem[]; fromYaml: boolean } {
  if (draft.yaml !== null) return { text: draft.yaml, problems: [], fromYaml: true };
  const { spec, problems } = draftToSpec(draft);
  return { text: specToYaml(spec), problems, fromYaml: false };
}

/** Instances a group will run: replicas, each on tp GPUs. */
export function gpusNeeded(g: Pick<GroupDraft, 'tp' | 'replicas'>): number {
  return g.tp * g.replicas;
}
