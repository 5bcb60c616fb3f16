import YAML from 'yaml';
import WebSocket from 'ws';
import { ApiEventEnvelope, ApiReply, type ApiMethodName, type ApiParams, type ApiResult } from '../common/api-contract';
import type { ProcessView } from '../common/deployment-view';
import { isTaskFinished } from '../common/task';
import { exampleSpec, freePortRun } from './harness/deploy-specs';

/**
 * Mocker deployments on "this computer" for the chat tests, on free ports, slowed down so a
 * stream lasts long enough to stop it: ~60 tokens/s decode, 200 prompt tokens/s prefill (a prompt
 * of ~1000 tokens spends seconds in the prefill leg), and a 2048-token context to overflow.
 */
const MOCKER = { options: { 'decode-base-ms': 30, prefillTokensPerS: 200 } };

export async function chatDisaggregatedSpec(name = 'chat-pd'): Promise<string> {
  const { text } = await exampleSpec({ prefill: 'this-computer', decode: 'this-computer' });
  const spec = YAML.parse(text) as Record<string, unknown>;
  return YAML.stringify({ ...spec, name, vllm: { ...(spec.vllm as object), maxModelLen: 2048 }, mocker: MOCKER });
}

export async function chatAggregatedSpec(name = 'chat-agg'): Promise<string> {
  const base = await freePortRun(2);
  return YAML.stringify({
    apiVersion: 'handoff/v1',
    name,
    model: 'deepseek-ai/DeepSeek-R1-Distill-Llama-8B',
    engine: 'mocker',
    mode: 'aggregated',
    workers: [{ name: 'worker', host: 'this-computer', gpus: [3], port: base }],
    router: { port: base + 1 },
    vllm: { enforceEager: true, maxModelLen: 2048 },
    mocker: MOCKER,
  });
}

/** One sample of a worker's Prometheus counter, summed over label sets matching `labels`. */
export async function workerMetric(p: Pick<ProcessView, 'url'>, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${p.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([^{\s]+)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const ls = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => ls.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

let salt = 0;
/** A prompt of about `tokens` mocker tokens ("the" is one token), different from every earlier one so prefix caching never shortens its prefill. */
export function longPrompt(tokens: number): string {
  return `Request ${++salt} ${Math.random().toString(36).slice(2, 8)}:${' the'.repeat(Math.max(0, tokens - 8))}`;
}

/** The API of a `handoff serve` over its WebSocket, as the page uses it: for tests that set things up beside the page. */
export interface WsApi {
  call<M extends ApiMethodName>(method: M, params?: ApiParams<M>): Promise<ApiResult<M>>;
  events: ApiEventEnvelope[];
  close(): void;
}

export async function connectWsApi(serveUrl: string): Promise<WsApi> {
  const u = new URL(serveUrl);
  const ws = new WebSocket(`ws://${u.host}/api?token=${encodeURIComponent(u.searchParams.get('token') ?? '')}`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let next = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const events: ApiEventEnvelope[] = [];
  ws.on('message', (data: WebSocket.RawData) => {
    const v: unknown = JSON.parse(data.toString());
    const reply = ApiReply.safeParse(v);
    if (reply.success) {
      const p = pending.get(reply.data.id);
      pending.delete(reply.data.id);
      if (reply.data.ok) p?.resolve(reply.data.result);
      else p?.reject(Object.assign(new Error(reply.data.error.message), { code: reply.data.error.code }));
      return;
    }
    const ev = ApiEventEnvelope.safeParse(v);
    if (ev.success) events.push(ev.data);
  });
  return {
    events,
    call: (method, params) =>
      new Promise((resolve, reject) => {
        const id = next++;
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

/** Polls a task through the WebSocket API until it finishes; returns its final state. */
export async function waitForTask<T extends { id: string; state: string }>(api: WsApi, task: T): Promise<T> {
  let t = task;
  while (!isTaskFinished(t as never)) {
    await new Promise((r) => setTimeout(r, 250));
    t = (await api.call('tasks.get', { id: task.id })) as unknown as T;
  }
  return t;
}
