import { z } from 'zod';
import type { NixlTransferRecord } from './kv/nixl-transfer';
import { PrefillReason, type RouterTrace as RouterTraceLine } from './router-trace';
import { RouterTrace as RunRouterTrace, type RequestRecord } from './run-record';
import { summarize } from './metrics/stats';

/**
 * The per-request waterfall (docs/waterfall.md): one request's client record, the router's trace
 * of it and the NIXL transfers matched to it, cut into phases that partition the time from "request
 * sent" to "first token received". The phases are built from boundaries on a line, so the
 * before-first-token phases add up to the measured TTFT by construction; the only cross-clock
 * quantity (client vs router process) decides where the network time is drawn, never how long
 * the whole is.
 */

export const WaterfallPhaseId = z.enum([
  /** Client send → router arrival (network + HTTP parsing on the way in). */
  'client-to-router',
  /** Both network hops together, when the client's and the router's clocks cannot be compared. */
  'network',
  /** Router arrival → first leg sent: body read, prompt length check, worker choice. */
  'router',
  /** Prefill leg sent → its response read: prefill queue + compute on the prefill worker. */
  'prefill',
  /** Prefill response read → decode leg sent. */
  'router-handoff',
  /** Decode leg sent → first byte of the measured KV read: decode queueing and the read's setup. */
  'decode-queue',
  /** The NIXL read (measured) or decode leg sent → first token less one decode step (upper bound). */
  'kv-transfer',
  /** End of the KV read → first token at the router: the decode step that makes the first token. */
  'first-decode-step',
  /** Decode leg sent → first token, when the decode (or aggregated) worker prefilled itself. */
  'local-prefill',
  /** First token relayed by the router → received by the client. */
  'router-to-client',
  /** No router trace: the whole TTFT, not split. */
  'unattributed',
  /** First token → last token at the client (after TTFT). */
  'decode',
]);
export type WaterfallPhaseId = z.infer<typeof WaterfallPhaseId>;

/** measured: two timestamps; upper-bound: contains the phase and more; estimate: modelled from other figures. */
export const PhaseBasis = z.enum(['measured', 'upper-bound', 'estimate']);
export type PhaseBasis = z.infer<typeof PhaseBasis>;

export const PHASE_LABELS: Record<WaterfallPhaseId, string> = {
  'client-to-router': 'client → router',
  network: 'client ↔ router (both ways)',
  router: 'router',
  prefill: 'prefill queue + compute (P)',
  'router-handoff': 'router handoff P → D',
  'decode-queue': 'decode queue (D)',
  'kv-transfer': 'KV transfer',
  'first-decode-step': 'first decode step (D)',
  'local-prefill': 'queue + prefill + first token (same worker)',
  'router-to-client': 'router → client',
  unattributed: 'not split (no router trace)',
  decode: 'decode (first → last token)',
};

/** Display order of the stacked breakdown: the order phases happen in. */
export const PHASE_ORDER: readonly WaterfallPhaseId[] = WaterfallPhaseId.options;

export const WaterfallPhase = z.object({
  id: WaterfallPhaseId,
  label: z.string(),
  /** Milliseconds after the client sent the request. */
  startMs: z.number(),
  durationMs: z.number(),
  basis: PhaseBasis,
  /** True for the phases that make up TTFT. */
  beforeFirstToken: z.boolean(),
  note: z.string().nullable(),
});
export type WaterfallPhase = z.infer<typeof WaterfallPhase>;

export const Placement = z.enum(['remote', 'local', 'aggregated', 'unknown']);
export type Placement = z.infer<typeof Placement>;

export const RequestWaterfall = z.object({
  requestId: z.string(),
  /** Client TTFT (first chunk with text − sent); null when no token arrived. */
  ttftMs: z.number().nullable(),
  /** Client request latency (last token, or the error, − sent). */
  latencyMs: z.number().nullable(),
  placement: Placement,
  prefillReason: z.string().nullable(),
  prefillWorker: z.string().nullable(),
  decodeWorker: z.string().nullable(),
  kvBlocks: z.number().nullable(),
  promptTokens: z.number().nullable(),
  /** The NIXL transfers matched to this request, summed (null when none matched). */
  transfers: z.object({ count: z.number().int(), bytes: z.number(), spanMs: z.number(), busyMs: z.number() }).nullable(),
  phases: z.array(WaterfallPhase),
  error: z.string().nullable(),
  notes: z.array(z.string()),
});
export type RequestWaterfall = z.infer<typeof RequestWaterfall>;

/** traces.jsonl of a run: run-record's RouterTrace plus what trace-collector.ts keeps beyond it. */
export const RunTraceLine = RunRouterTrace.extend({
  prefillReason: PrefillReason.optional(),
  status: z.string().optional(),
  finishedNs: z.number().nullable().optional(),
});
export type RunTraceLine = z.infer<typeof RunTraceLine>;

const nsToMs = (ns: number) => ns / 1e6;

/**
 * The request's inter-token latency, (last − first token) ÷ (output tokens − 1) as docs/metrics.md
 * §2: its mean decode step. Chunk gaps are no measure of a step: servers and proxies send several
 * tokens back to back.
 */
export function requestItlMs(rec: Pick<RequestRecord, 'firstTokenNs' | 'lastTokenNs' | 'outputTokens'>): number | null {
  const osl = rec.outputTokens.usage ?? rec.outputTokens.chunks ?? null;
  if (rec.firstTokenNs === null || rec.lastTokenNs === null || osl === null || osl < 2 || rec.lastTokenNs <= rec.firstTokenNs) return null;
  return nsToMs(rec.lastTokenNs - rec.firstTokenNs) / (osl - 1);
}

/** A point on the request's line: a phase runs from one boundary to the next. */
interface Cut {
  atMs: number;
  /** The phase that ends at this cut (starts at the previous one). */
  id: WaterfallPhaseId;
  basis: PhaseBasis;
  note: string | null;
}

function phasesFromCuts(cuts: Cut[], beforeFirstToken: boolean, startMs = 0): WaterfallPhase[] {
  const out: WaterfallPhase[] = [];
  let prev = startMs;
  for (const c of cuts) {
    const d = c.atMs - prev;
    // Zero-length phases carry no information, except a measured KV transfer (it happened, fast).
    if (d !== 0 || (c.id === 'kv-transfer' && c.basis === 'measured')) {
      out.push({ id: c.id, label: PHASE_LABELS[c.id], startMs: prev, durationMs: d, basis: c.basis, beforeFirstToken, note: c.note });
    }
    prev = c.atMs;
  }
  return out;
}

/** The router's view, in ms after its arrival time, whichever clock it came on. */
export interface RouterTimes {
  requestId: string;
  placement: Placement;
  prefillReason: string | null;
  prefillWorker: string | null;
  decodeWorker: string | null;
  kvBlocks: number | null;
  promptTokens: number | null;
  /** All relative to arrival (ms). */
  prefillSentMs: number | null;
  prefillDoneMs: number | null;
  decodeSentMs: number | null;
  firstTokenMs: number | null;
  lastTokenMs: number | null;
  error: string | null;
}

function placementOf(remote: boolean, reason: string | null | undefined): Placement {
  if (remote) return 'remote';
  return reason === 'aggregated' ? 'aggregated' : 'local';
}

/** A run's trace line (ns since the run's origin) as router-relative times. */
export function routerTimesFromRun(t: RunTraceLine): RouterTimes {
  const rel = (ns: number | null | undefined) => (ns === null || ns === undefined ? null : nsToMs(ns - t.arrivalNs));
  return {
    requestId: t.requestId,
    placement: placementOf(t.remotePrefill, t.prefillReason),
    prefillReason: t.prefillReason ?? null,
    prefillWorker: t.prefillWorker ?? null,
    decodeWorker: t.decodeWorker ?? null,
    kvBlocks: t.blocks ?? null,
    promptTokens: t.promptTokens ?? null,
    prefillSentMs: rel(t.prefillSentNs),
    prefillDoneMs: rel(t.prefillDoneNs),
    decodeSentMs: rel(t.decodeSentNs),
    firstTokenMs: rel(t.firstTokenNs),
    lastTokenMs: rel(t.lastTokenNs),
    error: t.error ?? null,
  };
}

/** The router's own trace line (epoch ms), as the playground gets it. */
export function routerTimesFromTrace(t: RouterTraceLine): RouterTimes {
  const rel = (ms: number | null) => (ms === null ? null : ms - t.arrivalAtMs);
  return {
    requestId: t.requestId,
    placement: placementOf(t.prefill === 'remote', t.prefillReason),
    prefillReason: t.prefillReason,
    prefillWorker: t.prefillWorker,
    decodeWorker: t.decodeWorker,
    kvBlocks: t.kvBlocks,
    promptTokens: t.promptTokens,
    prefillSentMs: rel(t.prefillSentAtMs),
    prefillDoneMs: rel(t.prefillDoneAtMs),
    decodeSentMs: rel(t.decodeSentAtMs),
    firstTokenMs: rel(t.firstTokenAtMs),
    lastTokenMs: rel(t.lastTokenAtMs),
    error: t.error ? `${t.error.leg}: ${t.error.message}` : null,
  };
}

/** Matched transfers relative to the router's arrival time: [start, end] of each read. */
export interface TransferSpan {
  startMs: number;
  endMs: number;
  bytes: number;
  /** The completion time is only known to lie in a window (NIXL v4 events carry no timestamp): place by duration. */
  uncertainTime: boolean;
}

/** What the client measured, in ms after it sent the request. */
export interface ClientTimes {
  requestId: string;
  /** null when no token arrived. */
  firstTokenMs: number | null;
  lastTokenMs: number | null;
  /** The request's decode step (its ITL), when known. */
  stepMs: number | null;
  error: string | null;
}

export interface WaterfallInput {
  client: ClientTimes;
  router: RouterTimes | null;
  /**
   * Router arrival − client send, when both clocks are comparable (benchmarks: both on the run's
   * clock); null puts all network time in one 'network' phase at the start (playground).
   */
  arrivalAfterSendMs: number | null;
  transfers: readonly TransferSpan[];
}

/** The router's phases between arrival and the first token it relayed, as cuts relative to arrival. */
function routerCuts(r: RouterTimes, firstMs: number, transfers: readonly TransferSpan[], stepMs: number | null): { cuts: Cut[]; notes: string[] } {
  const cuts: Cut[] = [];
  const notes: string[] = [];
  const firstLeg = r.prefillSentMs ?? r.decodeSentMs;
  if (firstLeg === null) {
    cuts.push({ atMs: firstMs, id: 'router', basis: 'measured', note: 'the trace records no leg sent' });
    return { cuts, notes };
  }
  cuts.push({ atMs: firstLeg, id: 'router', basis: 'measured', note: null });
  if (r.prefillSentMs !== null) {
    const prefillEnd = r.prefillDoneMs ?? r.decodeSentMs ?? firstMs;
    const wasted = r.placement !== 'remote';
    cuts.push({
      atMs: prefillEnd,
      id: 'prefill',
      basis: 'measured',
      note: wasted ? `the prefill leg gave no usable KV (${r.prefillReason ?? 'unknown reason'}); the decode worker prefilled again` : null,
    });
    if (r.decodeSentMs !== null && r.decodeSentMs > prefillEnd) cuts.push({ atMs: r.decodeSentMs, id: 'router-handoff', basis: 'measured', note: null });
  }
  const d = r.decodeSentMs;
  if (d === null) return { cuts, notes };
  if (r.placement !== 'remote') {
    cuts.push({ atMs: firstMs, id: 'local-prefill', basis: 'measured', note: null });
    return { cuts, notes };
  }
  const window = firstMs - d;
  if (transfers.length > 0 && transfers.every((x) => !x.uncertainTime)) {
    const clamp = (v: number) => Math.min(firstMs, Math.max(d, v));
    const s = clamp(Math.min(...transfers.map((x) => x.startMs)));
    const e = clamp(Math.max(...transfers.map((x) => x.endMs)));
    cuts.push({ atMs: s, id: 'decode-queue', basis: 'measured', note: null });
    cuts.push({ atMs: e, id: 'kv-transfer', basis: 'measured', note: `${transfers.length} NIXL transfer${transfers.length === 1 ? '' : 's'} matched` });
    cuts.push({ atMs: firstMs, id: 'first-decode-step', basis: 'measured', note: 'includes the relay of the first chunk to the router' });
    return { cuts, notes };
  }
  if (transfers.length > 0) {
    // Durations are exact but completion times are not: lay the phases out in the order they must
    // happen (queue and read setup, the read, the decode step that needs the whole KV).
    const kv = Math.min(window, Math.max(...transfers.map((x) => x.endMs - x.startMs)));
    const step = stepMs === null ? 0 : Math.min(Math.max(0, stepMs), window - kv);
    if (kv < Math.max(...transfers.map((x) => x.endMs - x.startMs))) notes.push('The matched NIXL transfer took longer than the decode leg waited for its first token; it is cut to that window.');
    cuts.push({ atMs: firstMs - step - kv, id: 'decode-queue', basis: stepMs === null ? 'upper-bound' : 'estimate', note: stepMs === null ? 'includes the first decode step (no decode step estimate)' : 'decode leg sent → first token, less the measured transfer and one decode step' });
    cuts.push({ atMs: firstMs - step, id: 'kv-transfer', basis: 'measured', note: `duration of ${transfers.length} NIXL transfer${transfers.length === 1 ? '' : 's'} matched (longest); its position is not recorded` });
    if (step > 0) cuts.push({ atMs: firstMs, id: 'first-decode-step', basis: 'estimate', note: "estimate: one decode step, the request's ITL" });
    return { cuts, notes };
  }
  // A decode step as long as the whole leg leaves no room for a transfer: the estimate is not credible then.
  const step = stepMs === null || stepMs >= window ? null : Math.max(0, stepMs);
  if (step === null) {
    cuts.push({ atMs: firstMs, id: 'kv-transfer', basis: 'upper-bound', note: 'upper bound: decode leg sent → first token (includes decode queueing and the first decode step; no NIXL telemetry matched)' });
    notes.push(
      stepMs === null
        ? 'No NIXL transfer matched and no decode step could be estimated: the KV transfer bar also holds the first decode step.'
        : `No NIXL transfer matched, and the decode step (${stepMs.toFixed(1)} ms) is as long as the whole decode leg: the KV transfer bar also holds the first decode step.`,
    );
  } else {
    cuts.push({ atMs: firstMs - step, id: 'kv-transfer', basis: 'upper-bound', note: 'upper bound: decode leg sent → first token less one decode step (includes decode queueing; no NIXL telemetry matched)' });
    cuts.push({ atMs: firstMs, id: 'first-decode-step', basis: 'estimate', note: "estimate: one decode step, the request's ITL" });
  }
  return { cuts, notes };
}

/**
 * One request's phases. Before-first-token phases are consecutive on one line from 0 to the client
 * TTFT; 'decode' follows from TTFT to the last token.
 */
export function buildWaterfall(input: WaterfallInput): RequestWaterfall {
  const { client, router: r } = input;
  const notes: string[] = [];
  const base = {
    requestId: client.requestId,
    ttftMs: client.firstTokenMs,
    latencyMs: client.lastTokenMs,
    placement: r?.placement ?? ('unknown' as Placement),
    prefillReason: r?.prefillReason ?? null,
    prefillWorker: r?.prefillWorker ?? null,
    decodeWorker: r?.decodeWorker ?? null,
    kvBlocks: r?.placement === 'remote' ? r.kvBlocks : null,
    promptTokens: r?.promptTokens ?? null,
    transfers: null as RequestWaterfall['transfers'],
    error: client.error ?? r?.error ?? null,
  };
  if (input.transfers.length > 0) {
    const start = Math.min(...input.transfers.map((t) => t.startMs));
    const end = Math.max(...input.transfers.map((t) => t.endMs));
    base.transfers = {
      count: input.transfers.length,
      bytes: input.transfers.reduce((a, t) => a + t.bytes, 0),
      spanMs: end - start,
      busyMs: input.transfers.reduce((a, t) => Math.max(a, t.endMs - t.startMs), 0),
    };
  }
  const ttft = client.firstTokenMs;
  if (ttft === null) {
    // No first token: show what the router recorded, but there is no TTFT to add up to.
    notes.push('No token arrived, so there is no TTFT to split.');
    let phases: WaterfallPhase[] = [];
    if (r && input.arrivalAfterSendMs !== null) {
      const off = input.arrivalAfterSendMs;
      // Up to the last leg the router sent: what happened after it is unknown.
      const cuts: Cut[] = [{ atMs: off, id: 'client-to-router', basis: 'measured', note: null }];
      const firstLeg = r.prefillSentMs ?? r.decodeSentMs;
      if (firstLeg !== null) cuts.push({ atMs: off + firstLeg, id: 'router', basis: 'measured', note: null });
      if (r.prefillSentMs !== null && r.prefillDoneMs !== null) cuts.push({ atMs: off + r.prefillDoneMs, id: 'prefill', basis: 'measured', note: null });
      if (r.prefillDoneMs !== null && r.decodeSentMs !== null && r.decodeSentMs > r.prefillDoneMs) cuts.push({ atMs: off + r.decodeSentMs, id: 'router-handoff', basis: 'measured', note: null });
      phases = phasesFromCuts(cuts, true);
    }
    return { ...base, phases, notes };
  }
  const tail = (): WaterfallPhase[] =>
    client.lastTokenMs !== null && client.lastTokenMs > ttft
      ? phasesFromCuts([{ atMs: client.lastTokenMs, id: 'decode', basis: 'measured', note: null }], false, ttft)
      : [];
  if (!r || r.firstTokenMs === null) {
    notes.push(r ? 'The router recorded no first token for this request, so TTFT is not split.' : 'The router has no trace of this request, so TTFT is not split.');
    return { ...base, phases: [...phasesFromCuts([{ atMs: ttft, id: 'unattributed', basis: 'measured', note: null }], true), ...tail()], notes };
  }
  const routerTtft = r.firstTokenMs;
  const network = ttft - routerTtft;
  const { cuts: rc, notes: rn } = routerCuts(r, routerTtft, input.transfers, client.stepMs);
  notes.push(...rn);
  const toRouter = input.arrivalAfterSendMs;
  let cuts: Cut[];
  if (toRouter !== null && toRouter >= 0 && network - toRouter >= 0) {
    cuts = [
      { atMs: toRouter, id: 'client-to-router', basis: 'measured', note: null },
      ...rc.map((c) => ({ ...c, atMs: c.atMs + toRouter })),
      { atMs: ttft, id: 'router-to-client', basis: 'measured', note: null },
    ];
  } else {
    if (toRouter !== null) notes.push(`The client's and the router's clocks disagree by more than the network time (router arrival ${toRouter.toFixed(3)} ms after send); both network hops are shown as one phase.`);
    if (network < 0) notes.push(`The router relayed the first token ${(-network).toFixed(3)} ms after the client received it: the clocks drift.`);
    cuts = [{ atMs: network, id: 'network', basis: 'measured', note: 'client TTFT − router TTFT' }, ...rc.map((c) => ({ ...c, atMs: c.atMs + network }))];
    // The router's last cut is at routerTtft + network = ttft; pin it so rounding cannot show.
    cuts[cuts.length - 1]!.atMs = ttft;
  }
  return { ...base, phases: [...phasesFromCuts(cuts, true), ...tail()], notes };
}

/** Sum of the before-first-token phases (equals ttftMs up to float rounding). */
export function phasesTotalMs(w: RequestWaterfall): number {
  return w.phases.filter((p) => p.beforeFirstToken).reduce((a, p) => a + p.durationMs, 0);
}

// ---------------------------------------------------------------- run level: matching transfers

export interface TransferMatch {
  /** Transfers by request id. */
  byRequest: Map<string, NixlTransferRecord[]>;
  matched: number;
  /** Inside the window of several requests on the same worker, with no block count to tell them apart. */
  ambiguous: number;
  /** Inside no remote-prefilled request's window on a known worker. */
  orphan: number;
}

/**
 * Ties each transfer to the one request whose window (prefill response read → first token at the
 * router) can hold its completion (a time, or for NIXL v4 records the window atEarliestMs..atMs),
 * on the same decode worker, among requests that have no transfer from the same NIXL agent yet.
 * Several candidates are told apart by the KV block count; still several means unmatched (ambiguous). `workerUrls` maps transfer worker
 * names to the router's worker URLs; with one decode worker in the traces every transfer is its.
 */
export function matchTransfers(traces: readonly RunTraceLine[], transfers: readonly NixlTransferRecord[], workerUrls: Readonly<Record<string, string>> = {}): TransferMatch {
  const byRequest = new Map<string, NixlTransferRecord[]>();
  const out: TransferMatch = { byRequest, matched: 0, ambiguous: 0, orphan: 0 };
  const remote = traces.filter((t) => t.remotePrefill && t.prefillDoneNs != null && t.firstTokenNs != null && t.decodeWorker);
  const perWorker = new Map<string, RunTraceLine[]>();
  for (const t of remote) {
    const list = perWorker.get(t.decodeWorker!) ?? [];
    list.push(t);
    perWorker.set(t.decodeWorker!, list);
  }
  const maxWindow = new Map<string, number>();
  for (const [w, list] of perWorker) {
    list.sort((a, b) => a.prefillDoneNs! - b.prefillDoneNs!);
    maxWindow.set(w, list.reduce((m, t) => Math.max(m, t.firstTokenNs! - t.prefillDoneNs!), 0));
  }
  const only = perWorker.size === 1 ? [...perWorker.keys()][0]! : null;
  const resolve = (name: string): string | null => {
    if (perWorker.has(name)) return name;
    const url = workerUrls[name];
    if (url !== undefined && perWorker.has(url)) return url;
    return only;
  };
  // A request takes one transfer per NIXL agent (per decode TP rank, per prefill rank read).
  const taken = new Set<string>();
  const order = [...transfers].sort((a, b) => a.atMs - b.atMs);
  for (const x of order) {
    const w = resolve(x.worker);
    const list = w === null ? undefined : perWorker.get(w);
    if (!list) {
      out.orphan++;
      continue;
    }
    const hiNs = x.atMs * 1e6;
    const loNs = (x.atEarliestMs ?? x.atMs) * 1e6;
    // Binary search: the last trace with prefillDone ≤ the latest completion, then back while windows can reach.
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.prefillDoneNs! <= hiNs) lo = mid + 1;
      else hi = mid;
    }
    const reach = maxWindow.get(w!)!;
    let cands: RunTraceLine[] = [];
    for (let i = lo - 1; i >= 0 && list[i]!.prefillDoneNs! >= loNs - reach; i--) {
      const t = list[i]!;
      if (loNs <= t.firstTokenNs! && !taken.has(`${x.agent}\u0000${t.requestId}`)) cands.push(t);
    }
    if (cands.length > 1) {
      const sameBlocks = cands.filter((t) => t.blocks != null && Math.round(x.blocks) === t.blocks);
      if (sameBlocks.length >= 1) cands = sameBlocks;
    }
    if (cands.length > 1) {
      out.ambiguous++;
      continue;
    }
    const pick = cands[0];
    if (!pick) {
      out.orphan++;
      continue;
    }
    taken.add(`${x.agent}\u0000${pick.requestId}`);
    const l = byRequest.get(pick.requestId) ?? [];
    l.push(x);
    byRequest.set(pick.requestId, l);
    out.matched++;
  }
  return out;
}

// ---------------------------------------------------------------- run level

/** Samples a PromSample needs here (a structural subset of run-record's MetricSample). */
export interface CounterSample {
  kind: string;
  tMs: number;
  source?: string;
  values?: Record<string, number>;
}

function seriesSum(values: Record<string, number>, names: readonly string[], label?: [string, string]): number | undefined {
  let sum: number | undefined;
  for (const [k, v] of Object.entries(values)) {
    const brace = k.indexOf('{');
    const name = brace < 0 ? k : k.slice(0, brace);
    if (!names.includes(name)) continue;
    if (label && !k.includes(`${label[0]}="${label[1]}"`)) continue;
    sum = (sum ?? 0) + v;
  }
  return sum;
}

/** Growth of a counter over a run: the sum of increases, a drop counted as a restart from zero. */
function counterGrowth(samples: readonly CounterSample[], source: string, names: readonly string[], label?: [string, string]): number | null {
  let prev: number | undefined;
  let growth = 0;
  let seen = false;
  for (const s of samples) {
    if (s.kind !== 'prometheus' || s.source !== source || !s.values) continue;
    const v = seriesSum(s.values, names, label);
    if (v === undefined) continue;
    seen = true;
    if (prev !== undefined) growth += v >= prev ? v - prev : v;
    prev = v;
  }
  return seen ? growth : null;
}

const PROMPT_BY_SOURCE = ['vllm:prompt_tokens_by_source_total', 'vllm:prompt_tokens_by_source'];
const PROMPT_TOKENS = ['vllm:prompt_tokens_total', 'vllm:prompt_tokens'];
const NIXL_BYTES = ['vllm:nixl_bytes_transferred_sum'];
const REQUEST_SUCCESS = ['vllm:request_success_total', 'vllm:request_success'];

export type WorkerRole = 'prefill' | 'decode' | 'both';

/**
 * Worker roles from the run's deployment spec, by the planner's process names
 * (`<group name or role[n]>-<instance>`), falling back to the name's prefix.
 */
export function workerRoles(spec: unknown, sources: readonly string[]): Map<string, WorkerRole> {
  const groups = new Map<string, WorkerRole>();
  const workers = (spec as { workers?: unknown } | null | undefined)?.workers;
  if (Array.isArray(workers)) {
    const counts = new Map<string, number>();
    for (const g of workers as Array<{ name?: unknown; role?: unknown }>) {
      const role = g.role === 'prefill' || g.role === 'decode' ? g.role : 'both';
      const n = (counts.get(role) ?? 0) + 1;
      counts.set(role, n);
      groups.set(typeof g.name === 'string' ? g.name : n === 1 ? role : `${role}${n}`, role);
    }
  }
  const out = new Map<string, WorkerRole>();
  for (const s of sources) {
    if (s === 'router') continue;
    const g = s.replace(/-\d+$/, '');
    const role = groups.get(g) ?? (/^prefill/.test(s) ? 'prefill' : /^decode/.test(s) ? 'decode' : null);
    if (role) out.set(s, role);
  }
  return out;
}

export const DisaggStatus = z.enum(['ok', 'warn', 'bad', 'not-applicable']);
export type DisaggStatus = z.infer<typeof DisaggStatus>;

export const DisaggCheck = z.object({
  status: DisaggStatus,
  /** One plain sentence per finding: what is wrong and what to check (or that all is well). */
  messages: z.array(z.string()),
  mode: z.enum(['aggregated', 'disaggregated']).nullable(),
  tracedRequests: z.int(),
  remotePrefilled: z.int(),
  remoteRatio: z.number().nullable(),
  /** Why the others were prefilled locally: reason → count. */
  localReasons: z.record(z.string(), z.int()),
  kvBytes: z.number().nullable(),
  kvBytesSource: z.enum(['transfers', 'nixl-counters']).nullable(),
  /** Decode workers: growth of prompt tokens by source over the run. */
  decodeExternalKvTokens: z.number().nullable(),
  decodeLocalComputeTokens: z.number().nullable(),
  decodePromptTokens: z.number().nullable(),
  /** Prompt tokens of the requests the router sent to a prefill worker / prefilled on decode. */
  remotePromptTokens: z.number().nullable(),
  localPromptTokens: z.number().nullable(),
  /** Requests the prefill workers finished (vllm:request_success growth), when sampled. */
  prefillWorkerRequests: z.number().nullable(),
});
export type DisaggCheck = z.infer<typeof DisaggCheck>;

export interface DisaggInput {
  mode: 'aggregated' | 'disaggregated' | null;
  traces: readonly RunTraceLine[];
  samples: readonly CounterSample[];
  roles: ReadonlyMap<string, WorkerRole>;
  transfers: readonly NixlTransferRecord[];
}

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');

/** The "is disaggregation really happening" verdict of a run. */
export function checkDisaggregation(input: DisaggInput): DisaggCheck {
  const { traces, samples, roles } = input;
  const mode = input.mode ?? (traces.some((t) => t.prefillReason === 'aggregated') ? 'aggregated' : traces.length ? 'disaggregated' : null);
  const remote = traces.filter((t) => t.remotePrefill);
  const localReasons: Record<string, number> = {};
  for (const t of traces) if (!t.remotePrefill) localReasons[t.prefillReason ?? 'unknown'] = (localReasons[t.prefillReason ?? 'unknown'] ?? 0) + 1;
  const tokens = (list: readonly RunTraceLine[]) => (list.every((t) => t.promptTokens == null) ? null : list.reduce((a, t) => a + (t.promptTokens ?? 0), 0));
  const decodeSources = [...roles].filter(([, r]) => r === 'decode').map(([s]) => s);
  const prefillSources = [...roles].filter(([, r]) => r === 'prefill').map(([s]) => s);
  const sumOver = (sources: string[], names: readonly string[], label?: [string, string]) => {
    let total: number | null = null;
    for (const s of sources) {
      const g = counterGrowth(samples, s, names, label);
      if (g !== null) total = (total ?? 0) + g;
    }
    return total;
  };
  let kvBytes: number | null = null;
  let kvBytesSource: DisaggCheck['kvBytesSource'] = null;
  if (input.transfers.length) {
    kvBytes = input.transfers.reduce((a, t) => a + t.bytes, 0);
    kvBytesSource = 'transfers';
  } else {
    const b = sumOver(decodeSources, NIXL_BYTES);
    if (b !== null) {
      kvBytes = b;
      kvBytesSource = 'nixl-counters';
    }
  }
  const check: DisaggCheck = {
    status: 'ok',
    messages: [],
    mode,
    tracedRequests: traces.length,
    remotePrefilled: remote.length,
    remoteRatio: traces.length ? remote.length / traces.length : null,
    localReasons,
    kvBytes,
    kvBytesSource,
    decodeExternalKvTokens: sumOver(decodeSources, PROMPT_BY_SOURCE, ['source', 'external_kv_transfer']),
    decodeLocalComputeTokens: sumOver(decodeSources, PROMPT_BY_SOURCE, ['source', 'local_compute']),
    decodePromptTokens: sumOver(decodeSources, PROMPT_TOKENS),
    remotePromptTokens: tokens(remote),
    localPromptTokens: tokens(traces.filter((t) => !t.remotePrefill)),
    prefillWorkerRequests: sumOver(prefillSources, REQUEST_SUCCESS),
  };
  const bad = (m: string) => {
    check.status = 'bad';
    check.messages.push(m);
  };
  const warn = (m: string) => {
    if (check.status === 'ok') check.status = 'warn';
    check.messages.push(m);
  };
  if (mode !== 'disaggregated') {
    check.status = 'not-applicable';
    check.messages.push(mode === 'aggregated' ? 'Aggregated deployment: every worker prefills and decodes its own requests, so there is no KV handoff to check.' : 'No router traces: this run cannot tell whether prefill and decode were split.');
    return check;
  }
  if (traces.length === 0) {
    check.status = 'warn';
    check.messages.push('The router recorded no traces for this run, so the split between prefill and decode cannot be checked. Check that the router writes its --trace-file.');
    return check;
  }
  const reasons = Object.entries(localReasons)
    .sort((a, b) => b[1] - a[1])
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
  if (remote.length === 0) {
    const hint = localReasons['short-prompt']
      ? 'The remote-prefill rule (router.remotePrefillMinTokens) sent every prompt to the decode worker: lower it below the prompt length.'
      : localReasons['prefill-unreachable']
        ? 'No prefill worker could be reached: check that the prefill workers are running and reachable from the router.'
        : localReasons['prefill-returned-no-kv-params']
          ? 'The prefill workers answered without kv_transfer_params: check that they run with --kv-transfer-config kv_role kv_producer.'
          : localReasons['prefill-saturated']
            ? 'The prefill workers were over the queue limit (router.prefillQueueLimit) for every request.'
            : 'Check the router options and the prefill workers.';
    bad(`The prefill workers handled none of the ${fmtInt(traces.length)} requests: the decode workers prefilled every prompt themselves (${reasons}). ${hint}`);
  } else if (remote.length < traces.length) {
    warn(`${fmtInt(traces.length - remote.length)} of ${fmtInt(traces.length)} requests were prefilled on the decode worker (${reasons}); the rest went through a prefill worker.`);
  }
  if (check.prefillWorkerRequests === 0 && remote.length > 0) {
    bad(`The router sent ${fmtInt(remote.length)} prefill legs but the prefill workers' vllm:request_success did not grow. Check that the metrics of the prefill workers come from the workers the router uses.`);
  }
  const remoteTokens = check.remotePromptTokens;
  if (remote.length > 0 && remoteTokens && remoteTokens > 0) {
    const ext = check.decodeExternalKvTokens;
    const local = check.decodeLocalComputeTokens;
    // D recomputes the last prompt token of each handed-over request (reference §2.1 step 5): allow a few per request.
    const allowance = Math.max(remote.length * 2, remoteTokens * 0.05);
    const recomputed = local === null ? null : local - (check.localPromptTokens ?? 0);
    if (recomputed !== null && recomputed > allowance) {
      bad(`The decode workers computed ${fmtInt(recomputed)} prompt tokens themselves beyond those of the locally prefilled requests, although ${fmtInt(remote.length)} requests (${fmtInt(remoteTokens)} prompt tokens) were prefilled remotely: decode is recomputing prompts instead of reading the KV cache. Check the decode workers' logs for NIXL handshake errors ("engine ID mismatch", VLLM_NIXL_SIDE_CHANNEL_HOST) and that kv_transfer_params reach them.`);
    }
    if (ext !== null && ext < remoteTokens * 0.5 && (recomputed === null || recomputed <= allowance)) {
      warn(`The decode workers received ${fmtInt(ext)} prompt tokens over KV transfer for ${fmtInt(remoteTokens)} remotely prefilled prompt tokens; the rest was already in their prefix cache or the counters missed part of the run.`);
    }
    if (ext === null && local === null) warn('No vllm:prompt_tokens_by_source samples from the decode workers: the run cannot show whether decode read the KV cache or recomputed it.');
  }
  if (remote.length > 0 && kvBytes === 0) bad(`${fmtInt(remote.length)} requests were prefilled remotely but no KV bytes moved (${kvBytesSource === 'transfers' ? 'NIXL telemetry' : 'vllm:nixl_bytes_transferred'}): the decode workers did not read the prefill workers' KV cache. Check the NIXL connector of both sides.`);
  if (check.status === 'ok') {
    check.messages.push(
      `Disaggregation is working: ${fmtInt(remote.length)} of ${fmtInt(traces.length)} requests were prefilled on a prefill worker${check.decodeExternalKvTokens !== null ? ` and the decode workers read ${fmtInt(check.decodeExternalKvTokens)} prompt tokens over KV transfer` : ''}.`,
    );
  }
  return check;
}

export const PhaseStat = z.object({
  id: WaterfallPhaseId,
  label: z.string(),
  /** Requests where the phase exists. */
  count: z.int(),
  /** Mean over every request of the group (0 where the phase is absent), so the means add up to the mean TTFT. */
  meanMs: z.number(),
  /** Median over the requests where the phase exists. */
  p50Ms: z.number(),
  /** The least certain basis seen: upper-bound > estimate > measured. */
  basis: PhaseBasis,
});
export type PhaseStat = z.infer<typeof PhaseStat>;

export const TtftBreakdown = z.object({
  group: z.enum(['all', 'remote', 'local']),
  requests: z.int(),
  meanTtftMs: z.number(),
  p50TtftMs: z.number(),
  phases: z.array(PhaseStat),
});
export type TtftBreakdown = z.infer<typeof TtftBreakdown>;

const BASIS_RANK: Record<PhaseBasis, number> = { measured: 0, estimate: 1, 'upper-bound': 2 };

/** "Where did TTFT go": the before-first-token phases over the requests that have a TTFT. */
export function ttftBreakdown(waterfalls: readonly RequestWaterfall[], group: TtftBreakdown['group']): TtftBreakdown | null {
  const ws = waterfalls.filter((w) => w.ttftMs !== null && (group === 'all' || (group === 'remote' ? w.placement === 'remote' : w.placement === 'local' || w.placement === 'aggregated')));
  if (ws.length === 0) return null;
  const ttft = summarize(ws.map((w) => w.ttftMs!))!;
  const per = new Map<WaterfallPhaseId, { values: number[]; basis: PhaseBasis }>();
  for (const w of ws) {
    const sums = new Map<WaterfallPhaseId, number>();
    for (const p of w.phases) {
      if (!p.beforeFirstToken) continue;
      sums.set(p.id, (sums.get(p.id) ?? 0) + p.durationMs);
      const e = per.get(p.id) ?? { values: [], basis: 'measured' as PhaseBasis };
      if (BASIS_RANK[p.basis] > BASIS_RANK[e.basis]) e.basis = p.basis;
      per.set(p.id, e);
    }
    for (const [id, v] of sums) per.get(id)!.values.push(v);
  }
  const phases: PhaseStat[] = PHASE_ORDER.filter((id) => per.has(id)).map((id) => {
    const e = per.get(id)!;
    return { id, label: PHASE_LABELS[id], count: e.values.length, meanMs: e.values.reduce((a, v) => a + v, 0) / ws.length, p50Ms: summarize(e.values)!.p50, basis: e.basis };
  });
  return { group, requests: ws.length, meanTtftMs: ttft.avg, p50TtftMs: ttft.p50, phases };
}

// ---------------------------------------------------------------- run level: the whole view

export const WaterfallPoint = z.object({ id: z.string(), sendS: z.number(), ttftMs: z.number(), placement: Placement });
export type WaterfallPoint = z.infer<typeof WaterfallPoint>;

export const RunWaterfall = z.object({
  runId: z.string(),
  streaming: z.boolean(),
  /** Profiling requests with a record. */
  requests: z.int(),
  traced: z.int(),
  transfers: z.object({ total: z.int(), matched: z.int(), ambiguous: z.int(), orphan: z.int() }),
  breakdowns: z.array(TtftBreakdown),
  disaggregation: DisaggCheck,
  /** Requests to pick from (TTFT over time), at most a few thousand. */
  points: z.array(WaterfallPoint),
  picks: z.object({ slowest: z.string().nullable(), p50: z.string().nullable(), p90: z.string().nullable(), fastest: z.string().nullable() }),
  /** The request asked for (or the slowest). */
  request: RequestWaterfall.nullable(),
  /** Largest |phases − TTFT| over every request, ms (0 up to float rounding by construction). */
  maxSumErrorMs: z.number().nullable(),
  notes: z.array(z.string()),
});
export type RunWaterfall = z.infer<typeof RunWaterfall>;

export interface RunWaterfallInput {
  runId: string;
  streaming: boolean;
  mode: 'aggregated' | 'disaggregated' | null;
  spec: unknown;
  records: readonly RequestRecord[];
  traces: readonly RunTraceLine[];
  transfers: readonly NixlTransferRecord[];
  samples: readonly CounterSample[];
  workerUrls?: Readonly<Record<string, string>>;
  requestId?: string;
  maxPoints?: number;
}

/** One request's waterfall from run records (every time on the run's clock). */
export function requestWaterfall(rec: RequestRecord, trace: RunTraceLine | null, transfers: readonly NixlTransferRecord[]): RequestWaterfall {
  const ms = (ns: number | null) => (ns === null ? null : nsToMs(ns - rec.sendNs));
  const router = trace ? routerTimesFromRun(trace) : null;
  const spans: TransferSpan[] = trace
    ? transfers.map((x) => {
        const endMs = x.atMs - nsToMs(trace.arrivalNs);
        return { startMs: endMs - x.durationUs / 1000, endMs, bytes: x.bytes, uncertainTime: x.atEarliestMs !== undefined };
      })
    : [];
  return buildWaterfall({
    client: {
      requestId: rec.id ?? '',
      firstTokenMs: ms(rec.firstTokenNs),
      lastTokenMs: ms(rec.lastTokenNs),
      stepMs: requestItlMs(rec),
      error: rec.error ? rec.error.message : null,
    },
    router,
    arrivalAfterSendMs: trace ? nsToMs(trace.arrivalNs - rec.sendNs) : null,
    transfers: spans,
  });
}

function pickNearest(sorted: ReadonlyArray<{ id: string; ttftMs: number }>, q: number): string | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round((sorted.length - 1) * q)))]!.id;
}

export function buildRunWaterfall(input: RunWaterfallInput): RunWaterfall {
  const notes: string[] = [];
  const traceById = new Map(input.traces.map((t) => [t.requestId, t]));
  const match = matchTransfers(input.traces, input.transfers, input.workerUrls);
  const profiling = input.records.filter((r) => r.phase !== 'warmup' && r.id);
  const waterfalls: RequestWaterfall[] = [];
  let maxErr: number | null = null;
  for (const r of profiling) {
    const w = requestWaterfall(r, traceById.get(r.id!) ?? null, match.byRequest.get(r.id!) ?? []);
    waterfalls.push(w);
    if (w.ttftMs !== null) maxErr = Math.max(maxErr ?? 0, Math.abs(phasesTotalMs(w) - w.ttftMs));
  }
  const traced = profiling.filter((r) => traceById.has(r.id!)).length;
  if (profiling.length && !input.traces.length) notes.push('This run has no router traces (imported, or the router wrote no trace file): TTFT cannot be split into phases.');
  else if (traced < profiling.length) notes.push(`${profiling.length - traced} of ${profiling.length} requests have no router trace; their TTFT is shown unsplit.`);
  if (!input.streaming) notes.push('Non-streaming run: "first token" is when the whole answer arrived, so TTFT here is the request latency.');
  if (input.transfers.length) {
    notes.push(`${match.matched} of ${input.transfers.length} NIXL transfers matched a request${match.ambiguous ? `; ${match.ambiguous} fell in the windows of several requests on one worker and were left unmatched` : ''}${match.orphan ? `; ${match.orphan} matched no request` : ''}.`);
  } else if (input.traces.some((t) => t.remotePrefill)) {
    notes.push('No NIXL per-transfer telemetry in this run: the KV-transfer phase is an upper bound (decode leg sent → first token less one decode step).');
  }
  const withTtft = waterfalls.filter((w) => w.ttftMs !== null).sort((a, b) => a.ttftMs! - b.ttftMs!);
  const sorted = withTtft.map((w) => ({ id: w.requestId, ttftMs: w.ttftMs! }));
  const picks = { slowest: sorted.at(-1)?.id ?? null, p50: pickNearest(sorted, 0.5), p90: pickNearest(sorted, 0.9), fastest: sorted[0]?.id ?? null };
  const want = input.requestId ?? picks.slowest;
  const request = want ? (waterfalls.find((w) => w.requestId === want) ?? null) : null;
  if (input.requestId && !request) notes.push(`Request "${input.requestId}" is not one of this run's profiling requests.`);
  const sendById = new Map(profiling.map((r) => [r.id!, r.sendNs]));
  const firstSend = profiling.reduce((m, r) => Math.min(m, r.sendNs), Infinity);
  let points: WaterfallPoint[] = withTtft.map((w) => ({ id: w.requestId, sendS: (sendById.get(w.requestId)! - firstSend) / 1e9, ttftMs: w.ttftMs!, placement: w.placement }));
  const maxPoints = input.maxPoints ?? 2000;
  if (points.length > maxPoints) {
    // Keep both ends of the TTFT range (the requests people click) and an even sample between.
    const step = points.length / maxPoints;
    const keep = new Set<number>([0, points.length - 1]);
    for (let i = 0; i < maxPoints - 2; i++) keep.add(Math.floor(i * step));
    points = points.filter((_, i) => keep.has(i));
  }
  points.sort((a, b) => a.sendS - b.sendS);
  const sources = [...new Set(input.samples.filter((s) => s.kind === 'prometheus' && s.source).map((s) => s.source!))];
  const breakdowns = (['all', 'remote', 'local'] as const).map((g) => ttftBreakdown(waterfalls, g)).filter((b): b is TtftBreakdown => b !== null);
  return {
    runId: input.runId,
    streaming: input.streaming,
    requests: profiling.length,
    traced,
    transfers: { total: input.transfers.length, matched: match.matched, ambiguous: match.ambiguous, orphan: match.orphan },
    breakdowns,
    disaggregation: checkDisaggregation({ mode: input.mode, traces: input.traces, samples: input.samples, roles: workerRoles(input.spec, sources), transfers: input.transfers }),
    points,
    picks,
    request,
    maxSumErrorMs: maxErr,
    notes,
  };
}

/** The playground: one reply's client TTFT (and ITL as its decode step) and the router's trace (two clocks, so network is one phase). */
export function chatWaterfall(ttftMs: number | null, e2eMs: number | null, trace: RouterTraceLine, itlMs: number | null = null): RequestWaterfall {
  return buildWaterfall({
    client: { requestId: trace.requestId, firstTokenMs: ttftMs, lastTokenMs: e2eMs, stepMs: itlMs, error: trace.error?.message ?? null },
    router: routerTimesFromTrace(trace),
    arrivalAfterSendMs: null,
    transfers: [],
  });
}
