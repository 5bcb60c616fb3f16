/**
 * The simulated engine core: a continuous-batching step loop over a KV block pool, shaped like
 * vLLM V1's scheduler. Each step decodes one token for every running sequence and spends what is
 * left of the token budget on (chunked) prefills, FCFS from the waiting queue, admitting a request
 * only when the pool has blocks for it; otherwise it queues. A step lasts what the latency model
 * says, on the wall clock (× timeScale), and its tokens are emitted when it ends.
 */
import { BlockPool } from './block-pool';
import type { LatencyModel } from './latency-model';
import { EOS_TOKEN_ID, WORDS, tokenText, wordTokenId } from './tokenizer';
import { hash32, mulberry32 } from './seeded-random';

export type FinishReason = 'stop' | 'length' | 'abort' | 'error';

/**
 * At time scale 0 steps run back to back for this long before the event loop gets a turn: several
 * tokens per stream then share one socket write (the syscalls dominate the cost per token).
 */
const ZERO_LATENCY_TURN_MS = 10;

export interface TokenEvent {
  tokenIds: number[];
  text: string;
  finishReason: FinishReason | null;
  stopReason: string | null;
}

export interface RequestSink {
  onTokens(ev: TokenEvent): void;
  /** The request failed inside the engine (KV load failure with policy "fail"). */
  onError(message: string): void;
}

/** What the connector reports back to the engine for a request with remote KV. */
export type RemoteLoadResult = { ok: true } | { ok: false; reason: string };

export interface ConnectorHooks {
  /** D side: start reading the request's KV from the producer; resolves when done or failed. */
  loadRemote(req: EngineRequest, locallyCachedBlocks: number): Promise<RemoteLoadResult>;
  /** D side: a remote-prefill request entered the queue (heartbeats keep P's lease alive meanwhile). */
  consumerQueued(req: EngineRequest): void;
  /** D side: the request ended (any reason); the producer must be told to free its blocks if not yet. */
  consumerFinished(req: EngineRequest): void;
  /** P side: the request finished; pin its blocks and return the kv_transfer_params, or null. */
  producerFinished(req: EngineRequest, blockIds: number[]): Record<string, unknown> | null;
  /** D side: what to do when a remote load failed. */
  failurePolicy(): 'fail' | 'recompute';
}

export interface EngineRequestInit {
  requestId: string;
  promptTokenIds: number[];
  maxTokens: number;
  minTokens: number;
  ignoreEos: boolean;
  stop: string[];
  includeStopStrInOutput: boolean;
  /** P leg of a P/D pair (kv_transfer_params.do_remote_decode). */
  remoteDecode: boolean;
  /** D leg: the producer's kv_transfer_params, already validated. */
  remotePrefill: Record<string, unknown> | null;
  maxTokensParam: number;
  sink: RequestSink;
}

export type RequestState = 'waiting' | 'waiting_remote_kv' | 'running' | 'finished';

export interface EngineRequest extends EngineRequestInit {
  state: RequestState;
  hashes: string[];
  blockIds: number[];
  /** Tokens (prompt, then output re-prefilled after preemption) whose KV is computed. */
  numComputed: number;
  /** Tokens that must have KV before the next token can be sampled. */
  prefillTarget: number;
  output: number[];
  outputText: string;
  localCacheHitTokens: number;
  externalTokens: number;
  computedPromptTokens: number;
  preemptions: number;
  kvTransferParams: Record<string, unknown> | null;
  rng: () => number;
  promptKey: number;
  arrivalS: number;
  scheduledS: number | null;
  firstTokenS: number | null;
  lastTokenS: number | null;
}

export interface EngineStats {
  running: number;
  waiting: number;
  kvUsage: number;
}

export interface EngineObserver {
  stepDone(ev: { prefillTokens: number; decodeTokens: number; durationS: number }): void;
  requestFinished(req: EngineRequest, reason: FinishReason, nowS: number): void;
  firstScheduled(req: EngineRequest, nowS: number): void;
  token(req: EngineRequest, nowS: number, prevTokenS: number | null): void;
  prefixCache(queriedTokens: number, hitTokens: number): void;
  promptTokens(req: EngineRequest): void;
  preempted(): void;
}

export interface EngineConfig {
  numBlocks: number;
  blockSize: number;
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  prefixCaching: boolean;
  seed: number;
  latency: LatencyModel;
}

export class Engine {
  readonly pool: BlockPool;
  private readonly waiting: EngineRequest[] = [];
  private readonly running: EngineRequest[] = [];
  private readonly remoteWaiting = new Set<EngineRequest>();
  private stepTimer: { kind: 'timeout'; handle: NodeJS.Timeout } | { kind: 'immediate'; handle: NodeJS.Immediate } | null = null;
  private stepEndS = 0;
  private closed = false;
  private readonly jitterRng: () => number;
  connector: ConnectorHooks | null = null;
  observer: EngineObserver | null = null;
  /** Called after the tokens of a step (or of a zero-latency turn of steps) were handed to sinks. */
  onTurnEnd: (() => void) | null = null;

  constructor(
    readonly cfg: EngineConfig,
    private readonly now: () => number,
  ) {
    this.pool = new BlockPool(cfg.numBlocks, cfg.blockSize, cfg.prefixCaching);
    this.jitterRng = mulberry32(hash32(cfg.seed, 0x5eed));
  }

  stats(): EngineStats {
    return { running: this.running.length, waiting: this.waiting.length + this.remoteWaiting.size, kvUsage: this.pool.usage };
  }

  add(init: EngineRequestInit): EngineRequest {
    let promptKey = hash32(this.cfg.seed, init.promptTokenIds.length);
    for (const t of init.promptTokenIds) promptKey = hash32(promptKey, t);
    const req: EngineRequest = {
      ...init,
      state: 'waiting',
      hashes: this.pool.blockHashes(init.promptTokenIds),
      blockIds: [],
      numComputed: 0,
      prefillTarget: init.promptTokenIds.length,
      output: [],
      outputText: '',
      localCacheHitTokens: 0,
      externalTokens: 0,
      computedPromptTokens: 0,
      preemptions: 0,
      kvTransferParams: null,
      rng: mulberry32(promptKey),
      promptKey,
      arrivalS: this.now(),
      scheduledS: null,
      firstTokenS: null,
      lastTokenS: null,
    };
    this.waiting.push(req);
    if (req.remotePrefill && this.connector) this.connector.consumerQueued(req);
    this.kick();
    return req;
  }

  /** Client went away: free everything the request holds. */
  abort(req: EngineRequest): void {
    if (req.state === 'finished') return;
    this.remove(req);
    this.finish(req, 'abort', null);
  }

  close(): void {
    this.closed = true;
    this.clearTimer();
    for (const r of [...this.running, ...this.waiting, ...this.remoteWaiting]) this.abort(r);
  }

  private clearTimer(): void {
    if (this.stepTimer === null) return;
    if (this.stepTimer.kind === 'timeout') clearTimeout(this.stepTimer.handle);
    else clearImmediate(this.stepTimer.handle);
    this.stepTimer = null;
  }

  private remove(req: EngineRequest): void {
    let i = this.running.indexOf(req);
    if (i >= 0) this.running.splice(i, 1);
    i = this.waiting.indexOf(req);
    if (i >= 0) this.waiting.splice(i, 1);
    this.remoteWaiting.delete(req);
  }

  /** Starts a step if the engine is idle and has work. */
  private kick(continuing = false): void {
    if (this.stepTimer !== null || this.closed) return;
    if (this.running.length === 0 && this.waiting.length === 0) return;
    this.runStep(continuing);
  }

  private runStep(continuing: boolean): void {
    const timeScale = this.cfg.latency.profile.timeScale;
    if (timeScale === 0) {
      // Zero latency: steps are notionally instantaneous, so run them back to back for up to
      // ZERO_LATENCY_TURN_MS per event-loop turn and let the server write each stream's tokens of the turn at once.
      this.stepTimer = {
        kind: 'immediate',
        handle: setImmediate(() => {
          this.stepTimer = null;
          const t0 = performance.now();
          do {
            const plan = this.plan();
            if (plan.prefills.length === 0 && plan.decodes.length === 0) break;
            this.completeStep(plan);
            this.observer?.stepDone({ prefillTokens: plan.prefillTokens, decodeTokens: plan.decodes.length, durationS: 0 });
          } while (performance.now() - t0 < ZERO_LATENCY_TURN_MS && !this.closed);
          this.stepEndS = this.now();
          this.onTurnEnd?.();
          this.kick();
        }),
      };
      return;
    }
    const plan = this.plan();
    const nowS = this.now();
    if (plan.prefills.length === 0 && plan.decodes.length === 0) {
      // Nothing schedulable (waiting for blocks or remote KV): wake again when something changes.
      this.stepTimer = null;
      return;
    }
    let durationS = this.cfg.latency.stepSeconds(plan.prefillTokens, plan.decodes.length, plan.decodeContext);
    const jitter = this.cfg.latency.profile.jitter;
    if (jitter > 0) durationS *= 1 + jitter * (2 * this.jitterRng() - 1);
    // Back-to-back steps use absolute deadlines: a late timer shortens the next wait, so lateness
    // does not accumulate and the mean step time stays what the model says (unless over 50 ms behind).
    const start = continuing && nowS - this.stepEndS < 0.05 ? this.stepEndS : nowS;
    this.stepEndS = start + durationS * timeScale;
    const finish = (): void => {
      this.stepTimer = null;
      this.completeStep(plan);
      this.observer?.stepDone({ prefillTokens: plan.prefillTokens, decodeTokens: plan.decodes.length, durationS });
      this.onTurnEnd?.();
      this.kick(true);
    };
    this.stepTimer = { kind: 'timeout', handle: setTimeout(finish, Math.max(0, (this.stepEndS - nowS) * 1000)) };
  }

  private plan(): StepPlan {
    const plan: StepPlan = { decodes: [], prefills: [], prefillTokens: 0, decodeContext: 0 };
    let budget = this.cfg.maxNumBatchedTokens;
    // Decodes first, oldest first; a sequence that cannot grow preempts the newest (vLLM recompute mode).
    for (let i = 0; i < this.running.length && budget > 0; i++) {
      const r = this.running[i]!;
      if (r.numComputed < r.prefillTarget) continue;
      const ctx = r.promptTokenIds.length + r.output.length;
      while (!this.pool.grow(r.blockIds, ctx + 1)) {
        const victim = this.running[this.running.length - 1]!;
        this.preempt(victim);
        if (victim === r) break;
      }
      if (r.state !== 'running') {
        i--;
        continue;
      }
      plan.decodes.push(r);
      plan.decodeContext += ctx;
      budget--;
    }
    // Partially prefilled running requests (chunked prefill) continue next.
    for (const r of this.running) {
      if (budget <= 0) break;
      if (r.numComputed >= r.prefillTarget || plan.prefills.some((p) => p.req === r)) continue;
      const chunk = Math.min(budget, r.prefillTarget - r.numComputed);
      plan.prefills.push({ req: r, tokens: chunk });
      plan.prefillTokens += chunk;
      budget -= chunk;
    }
    // Admit waiting requests in arrival order while blocks, budget and seats last.
    while (budget > 0 && this.waiting.length > 0 && this.running.length + this.remoteWaiting.size < this.cfg.maxNumSeqs) {
      const r = this.waiting[0]!;
      if (!this.admit(r)) break;
      this.waiting.shift();
      if (r.state === 'waiting_remote_kv') continue;
      this.running.push(r);
      const chunk = Math.min(budget, r.prefillTarget - r.numComputed);
      if (chunk > 0) {
        plan.prefills.push({ req: r, tokens: chunk });
        plan.prefillTokens += chunk;
        budget -= chunk;
      }
    }
    return plan;
  }

  /** Allocates blocks for a waiting request; false when the pool is short (it keeps waiting). */
  private admit(r: EngineRequest): boolean {
    const total = r.prefillTarget;
    // vLLM recomputes at least the last prompt token even on a full prefix hit.
    const alloc = this.pool.allocate(r.hashes, total, Math.max(0, total - 1));
    if (!alloc) return false;
    r.blockIds = alloc.blockIds;
    const nowS = this.now();
    if (r.scheduledS === null) {
      r.scheduledS = nowS;
      this.observer?.firstScheduled(r, nowS);
    }
    if (r.preemptions === 0) {
      r.localCacheHitTokens = alloc.cachedTokens;
      this.observer?.prefixCache(r.promptTokenIds.length, alloc.cachedTokens);
    }
    r.numComputed = alloc.cachedTokens;
    if (r.remotePrefill && this.connector && r.preemptions === 0) {
      const remoteTokens = r.promptTokenIds.length - 1 - alloc.cachedTokens;
      r.state = 'waiting_remote_kv';
      this.remoteWaiting.add(r);
      void this.connector.loadRemote(r, alloc.cachedTokens / this.cfg.blockSize).then((res) => this.remoteDone(r, res, Math.max(0, remoteTokens)));
      return true;
    }
    r.state = 'running';
    return true;
  }

  private remoteDone(r: EngineRequest, res: RemoteLoadResult, remoteTokens: number): void {
    if (r.state !== 'waiting_remote_kv') return;
    this.remoteWaiting.delete(r);
    if (res.ok) {
      r.externalTokens = remoteTokens;
      r.numComputed += remoteTokens;
    } else if (this.connector?.failurePolicy() === 'fail') {
      this.pool.release(r.blockIds);
      r.blockIds = [];
      r.state = 'finished';
      this.connector.consumerFinished(r);
      this.observer?.requestFinished(r, 'error', this.now());
      r.sink.onError('Internal server error');
      this.kick();
      return;
    }
    r.state = 'running';
    this.running.push(r);
    this.kick();
  }

  private preempt(r: EngineRequest): void {
    const i = this.running.indexOf(r);
    if (i >= 0) this.running.splice(i, 1);
    this.pool.release(r.blockIds);
    r.blockIds = [];
    r.numComputed = 0;
    r.state = 'waiting';
    r.preemptions++;
    // Recompute mode: prompt and the output so far are prefilled again.
    r.prefillTarget = r.promptTokenIds.length + r.output.length;
    this.waiting.unshift(r);
    this.observer?.preempted();
  }

  private completeStep(plan: StepPlan): void {
    const nowS = this.now();
    for (const { req, tokens } of plan.prefills) {
      if (req.state !== 'running') continue;
      req.numComputed += tokens;
      if (req.preemptions === 0) req.computedPromptTokens += tokens;
      this.pool.commit(req.blockIds, req.hashes, Math.min(req.numComputed, req.promptTokenIds.length));
      if (req.numComputed >= req.prefillTarget) {
        if (req.preemptions === 0 || req.firstTokenS === null) this.observer?.promptTokens(req);
        this.sample(req, nowS);
      }
    }
    for (const req of plan.decodes) {
      if (req.state !== 'running') continue;
      req.numComputed++;
      this.sample(req, nowS);
    }
  }

  /** Produces the next token of a request and finishes it when a stop condition holds. */
  private sample(req: EngineRequest, nowS: number): void {
    const pos = req.output.length;
    let tokenId: number;
    let text: string;
    const canStop = !req.ignoreEos && pos >= req.minTokens;
    const p = this.cfg.latency.profile.eosProbability;
    if (canStop && p > 0 && ((hash32(req.promptKey, pos * 2 + 1) >>> 0) / 4294967296) < p) {
      tokenId = EOS_TOKEN_ID;
      text = '';
    } else {
      tokenId = wordTokenId(hash32(req.promptKey, pos * 2) % WORDS.length, pos > 0);
      text = tokenText(tokenId);
    }
    req.output.push(tokenId);
    const prev = req.lastTokenS;
    if (req.firstTokenS === null) req.firstTokenS = nowS;
    req.lastTokenS = nowS;
    this.observer?.token(req, nowS, prev);

    let finish: FinishReason | null = null;
    let stopReason: string | null = null;
    if (tokenId === EOS_TOKEN_ID) finish = 'stop';
    if (finish === null && req.stop.length > 0 && pos + 1 >= req.minTokens) {
      const before = req.outputText.length;
      const combined = req.outputText + text;
      for (const s of req.stop) {
        const at = combined.indexOf(s, Math.max(0, before - s.length + 1));
        if (s.length > 0 && at >= 0) {
          finish = 'stop';
          stopReason = s;
          const end = req.includeStopStrInOutput ? at + s.length : at;
          text = combined.slice(before, Math.max(before, end));
          break;
        }
      }
    }
    req.outputText += text;
    if (finish === null && req.output.length >= req.maxTokens) finish = 'length';
    if (finish === null) {
      req.sink.onTokens({ tokenIds: [tokenId], text, finishReason: null, stopReason: null });
      return;
    }
    this.remove(req);
    this.finish(req, finish, { tokenIds: [tokenId], text, finishReason: finish, stopReason });
  }

  private finish(req: EngineRequest, reason: FinishReason, last: TokenEvent | null): void {
    req.state = 'finished';
    const blocks = req.blockIds;
    req.blockIds = [];
    let pinned = false;
    if (req.remoteDecode && this.connector && (reason === 'length' || reason === 'stop')) {
      req.kvTransferParams = this.connector.producerFinished(req, blocks);
      pinned = blocks.length > 0 && req.kvTransferParams !== null;
    }
    if (!pinned) this.pool.release(blocks);
    if (req.remotePrefill && this.connector) this.connector.consumerFinished(req);
    this.observer?.requestFinished(req, reason, this.now());
    if (last) req.sink.onTokens(last);
    this.kick();
  }

  /** Frees blocks that a producer pinned for a consumer (read done or lease expired). */
  releasePinned(blockIds: number[]): void {
    this.pool.release(blockIds);
    this.kick();
  }
}

interface StepPlan {
  decodes: EngineRequest[];
  prefills: { req: EngineRequest; tokens: number }[];
  prefillTokens: number;
  decodeContext: number;
}
