import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { computeChatStats, type ChatDelta, type ChatDone, type ChatParams, type ChatStartParams, type ChatStartResult } from '../../../common/chat';
import type { DeploymentRecord, ForwardInfo } from '../../../common/deployment-view';
import { UserFacingError } from '../../../common/errors';
import { DeltaBatcher } from './delta-batcher';
import { fetchRouterTrace } from './router-trace-fetch';
import { nowMs, streamChat } from './chat-stream';

/** What chat needs from deployments (DeploymentService implements it). */
export interface ChatDeployments {
  resolve(ref: string): Promise<DeploymentRecord>;
  /** A local port reaching the deployment's router (an SSH tunnel, or direct on this computer); reused when open. */
  forward(ref: string): Promise<ForwardInfo>;
}

export interface ChatServiceOptions {
  deployments: ChatDeployments;
  /**
   * Least gap between two chat.delta events of one stream. Default 2 ms: the renderer already paints
   * once per frame, so this only caps the message rate (≤ 500 events/s per stream, however fast the
   * engine) while adding almost nothing to a token's way to the screen (bench/chat-latency.ts).
   */
  batchMs?: number;
  /** How long to wait for the router to finish recording a request's trace (an abort lands a moment later). */
  traceWaitMs?: number;
}

interface Running {
  abort: AbortController;
  done: Promise<void>;
}

/** OpenAI chat body from the playground's parameters (names as in the OpenAI API). */
export function chatRequestBody(model: string, p: ChatStartParams): Record<string, unknown> {
  const q: ChatParams = p.params;
  return {
    model,
    messages: p.messages,
    stream: true,
    // Usage in the last chunk gives exact input and output token counts.
    stream_options: { include_usage: true },
    ...(q.temperature !== undefined ? { temperature: q.temperature } : {}),
    ...(q.topP !== undefined ? { top_p: q.topP } : {}),
    ...(q.maxTokens !== undefined ? { max_tokens: q.maxTokens } : {}),
    ...(q.seed !== undefined ? { seed: q.seed } : {}),
    ...(q.stop !== undefined && q.stop.length > 0 ? { stop: q.stop } : {}),
  };
}

/**
 * Chats with deployments on behalf of the renderer and the CLI: the controller is the HTTP client
 * (the renderer never talks to a router), text goes out as batched chat.delta events, and chat.done
 * carries the client timings plus the router's trace of the request.
 */
export class ChatService extends EventEmitter<{ delta: [ChatDelta]; done: [ChatDone] }> {
  private readonly running = new Map<string, Running>();
  private readonly batchMs: number;
  private readonly traceWaitMs: number;

  constructor(private readonly opts: ChatServiceOptions) {
    super();
    this.batchMs = opts.batchMs ?? 2;
    this.traceWaitMs = opts.traceWaitMs ?? 5000;
  }

  async start(p: ChatStartParams): Promise<ChatStartResult> {
    if (this.running.has(p.streamId)) throw new UserFacingError('stream-exists', `A chat stream with id ${p.streamId} is already running. Use a new id for each message.`);
    const record = await this.opts.deployments.resolve(p.deployment);
    if (record.stoppedAt !== null) throw new UserFacingError('deployment-stopped', `Deployment "${record.name}" is stopped. Deploy it again (Deployments page or "handoff deploy"), or pick a running deployment.`);
    const fwd = await this.opts.deployments.forward(record.id);
    const requestId = `chat-${randomUUID()}`;
    const result: ChatStartResult = {
      streamId: p.streamId,
      requestId,
      deploymentId: record.id,
      deploymentName: record.name,
      simulated: record.simulated,
      mode: record.plan.mode,
      model: record.plan.model.servedName,
    };
    // Registered before the first await below, so a chat.stop right after start always finds it.
    const abort = new AbortController();
    const entry: Running = { abort, done: Promise.resolve() };
    this.running.set(p.streamId, entry);
    entry.done = this.run(p, result, fwd, abort.signal).finally(() => this.running.delete(p.streamId));
    return result;
  }

  /** Aborts a running stream (its chat.done follows with outcome "stopped"). */
  stop(streamId: string): boolean {
    const r = this.running.get(streamId);
    if (!r) return false;
    r.abort.abort();
    return true;
  }

  /** Resolves when the stream has sent its chat.done (for tests and the CLI). */
  async settled(streamId: string): Promise<void> {
    await this.running.get(streamId)?.done;
  }

  async close(): Promise<void> {
    for (const r of this.running.values()) r.abort.abort();
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  private async run(p: ChatStartParams, s: ChatStartResult, fwd: ForwardInfo, signal: AbortSignal): Promise<void> {
    const batcher = new DeltaBatcher((b) => this.emit('delta', { streamId: p.streamId, ...b }), this.batchMs, nowMs);
    const res = await streamChat({
      baseUrl: fwd.url,
      requestId: s.requestId,
      body: chatRequestBody(s.model, p),
      target: { deploymentName: s.deploymentName, local: `127.0.0.1:${fwd.localPort}`, remote: fwd.remote, host: fwd.host },
      onText: (text, at) => batcher.push(text, at),
      signal,
    });
    batcher.flush();
    const lookup = res.reachedRouter || res.outcome === 'stopped'
      ? await fetchRouterTrace(fwd.url, s.requestId, this.traceWaitMs)
      : { trace: null, note: 'No trace: the request did not reach the router.' };
    this.emit('done', {
      streamId: p.streamId,
      requestId: s.requestId,
      outcome: res.outcome,
      text: res.text,
      stats: computeChatStats(res.timings),
      trace: lookup.trace,
      traceNote: lookup.note,
      error: res.error,
    });
  }
}
