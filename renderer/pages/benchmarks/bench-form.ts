import { SEED_PRESET, type BenchTool } from '../../../common/bench-rpc';
import { normalizeCpuList } from '../../../common/cpu-list';
import type { HostStatus } from '../../../common/host';
import type { StartWorkload, SweepParams } from '../../../common/run-view';

/** The New benchmark form as typed: strings until they are checked. */
export interface BenchForm {
  deployment: string;
  tool: BenchTool;
  preset: 'seed' | 'custom';
  name: string;
  islMean: string;
  oslMean: string;
  /** `10` or `1, 4, 16` (a sweep). */
  load: string;
  loadKind: 'concurrency' | 'rate';
  requestCount: string;
  warmupRequestCount: string;
  streaming: boolean;
  /** Goodput SLOs in the tools' syntax: `time_to_first_token:200 inter_token_latency:20`. */
  slos: string;
  /** CPUs of the router host for the benchmark client, `0-3,8`; empty: anywhere. */
  clientCpus: string;
  /** OSL from the server's usage instead of re-tokenizing (not for genai-perf). */
  serverTokenCount: boolean;
}

export const DEFAULT_FORM: BenchForm = {
  deployment: '',
  tool: 'builtin',
  preset: 'seed',
  name: '',
  islMean: String(SEED_PRESET.islMean),
  oslMean: String(SEED_PRESET.oslMean),
  load: String(SEED_PRESET.concurrency),
  loadKind: 'concurrency',
  requestCount: String(SEED_PRESET.requestCount),
  warmupRequestCount: String(SEED_PRESET.warmupRequestCount),
  streaming: true,
  slos: '',
  clientCpus: '',
  serverTokenCount: false,
};

export type FormErrors = Partial<Record<keyof BenchForm, string>>;

function positiveInt(v: string, what: string, min = 1): number | string {
  const t = v.trim();
  if (!/^\d+$/.test(t)) return `Give ${what} as a whole number.`;
  const n = Number(t);
  if (n < min) return `${what[0]!.toUpperCase()}${what.slice(1)} must be at least ${min}.`;
  return n;
}

/** `1, 4, 16` → [1, 4, 16]; a message naming the bad entry otherwise. */
export function parseLoadList(text: string, kind: BenchForm['loadKind']): number[] | string {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  if (!parts.length) return kind === 'rate' ? 'Give a request rate (requests/s), or several separated by commas for a sweep.' : 'Give a concurrency, or several separated by commas for a sweep.';
  const out: number[] = [];
  for (const p of parts) {
    const n = Number(p);
    if (kind === 'concurrency' ? !/^\d+$/.test(p) || n < 1 : !Number.isFinite(n) || n <= 0) {
      return kind === 'concurrency' ? `"${p}" is not a concurrency: use whole numbers from 1, such as 1, 4, 16.` : `"${p}" is not a request rate: use positive numbers of requests/s, such as 0.5, 2, 8.`;
    }
    out.push(n);
  }
  if (out.length > 64) return 'A sweep has at most 64 points.';
  if (new Set(out).size !== out.length) return 'Each load point once: remove the repeated value.';
  return out;
}

/** Checks the form and builds runs.sweep's parameters (runs.start when there is one load point). */
export function buildBenchParams(f: BenchForm): { params: SweepParams; points: number } | { errors: FormErrors } {
  const errors: FormErrors = {};
  if (!f.deployment) errors.deployment = 'Pick a running deployment to benchmark.';
  let workload: StartWorkload;
  let load: number[] = [SEED_PRESET.concurrency];
  if (f.preset === 'seed') {
    workload = { preset: 'seed' };
  } else {
    const isl = positiveInt(f.islMean, 'the input length');
    const osl = positiveInt(f.oslMean, 'the output length');
    const requests = positiveInt(f.requestCount, 'the number of requests');
    const warmup = positiveInt(f.warmupRequestCount, 'the number of warmup requests', 0);
    const l = parseLoadList(f.load, f.loadKind);
    if (typeof isl === 'string') errors.islMean = isl;
    if (typeof osl === 'string') errors.oslMean = osl;
    if (typeof requests === 'string') errors.requestCount = requests;
    if (typeof warmup === 'string') errors.warmupRequestCount = warmup;
    if (typeof l === 'string') errors.load = l;
    else load = l;
    if (typeof isl === 'number' && typeof osl === 'number' && typeof requests === 'number' && typeof warmup === 'number') {
      workload = {
        islMean: isl,
        islStddev: 0,
        oslMean: osl,
        oslStddev: 0,
        exactOutput: true,
        requestCount: requests,
        warmupRequestCount: warmup,
        streaming: f.streaming,
        endpointType: 'chat',
      };
    } else workload = {};
    if (f.slos.trim()) {
      if (!/^\s*([a-z_A-Z]+:\d+(\.\d+)?\s*)+$/.test(f.slos)) errors.slos = 'Write SLOs as metric:value pairs, such as time_to_first_token:200 inter_token_latency:20 (ms).';
      else workload = { ...workload, slos: f.slos.trim() };
    }
  }
  let clientCpus: string | undefined;
  if (f.clientCpus.trim()) {
    const r = normalizeCpuList(f.clientCpus);
    if (r.ok) clientCpus = r.cpus;
    else errors.clientCpus = `${r.reason[0]!.toUpperCase()}${r.reason.slice(1)}.`;
  }
  // genai-perf has no server-count option: sending it would only earn a note in the record.
  if (f.serverTokenCount && f.tool !== 'genai-perf') workload = { ...workload, outputTokenCount: 'server' };
  if (Object.keys(errors).length) return { errors };
  const base = { deployment: f.deployment, tool: f.tool, workload, ...(clientCpus ? { clientCpus } : {}), ...(f.name.trim() ? { name: f.name.trim() } : {}) };
  const params: SweepParams = f.loadKind === 'rate' && f.preset === 'custom' ? { ...base, requestRates: load } : { ...base, concurrencies: load };
  return { params, points: load.length };
}

/** Which external tools the host has, by Python package (host.info). */
export function toolAvailability(host: HostStatus | undefined): Record<BenchTool, { installed: boolean; detail: string }> {
  const name = host?.config.name ?? 'the host';
  const find = (pkgs: string[]): string | null => {
    for (const env of host?.info?.pythons ?? []) {
      for (const p of pkgs) {
        const v = env.packages[p];
        if (v) return `${v} in ${env.path}`;
      }
    }
    return null;
  };
  const gp = find(['genai-perf', 'genai_perf']);
  const ap = find(['aiperf']);
  const unknown = !host?.info;
  const missing = (tool: string) => (unknown ? `${name} has not been checked yet` : `not installed on ${name} (pip install ${tool})`);
  return {
    builtin: { installed: true, detail: 'runs in the Handoff agent next to the router' },
    'genai-perf': { installed: gp !== null, detail: gp ? `installed on ${name}: ${gp}` : missing('genai-perf') },
    aiperf: { installed: ap !== null, detail: ap ? `installed on ${name}: ${ap}` : missing('aiperf') },
  };
}
