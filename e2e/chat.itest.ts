import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatDone, pdStatsFromTrace, type ChatDelta, type ChatMessage, type ChatParams } from '../common/chat';
import { DeployTaskResult } from '../common/deployment-view';
import { chatDisaggregatedSpec, longPrompt, workerMetric } from './chat-harness';
import { runCli } from './harness/cli';
import { startControllerFixture, type ControllerFixture } from './harness/controller-fixture';

/**
 * The chat path end to end without a browser: the real controller streams through a mocker
 * disaggregated deployment on this computer (real agent, router, prefill and decode workers).
 */
describe('chat through a mocker disaggregated deployment', () => {
  let fx: ControllerFixture;
  let id = '';
  let n = 0;

  beforeAll(async () => {
    fx = await startControllerFixture();
    const { deployment, task } = await fx.controller.deployments.apply({ specText: await chatDisaggregatedSpec('chat-itest'), source: 'chat-itest.yaml' });
    id = deployment.id;
    const t = await fx.finish(task);
    if (t.state !== 'succeeded') throw new Error(`deploy failed: ${t.error?.message}`);
    DeployTaskResult.parse(t.result);
  }, 240_000);
  afterAll(async () => {
    if (id) await fx?.controller.deployments.teardown(id).catch(() => undefined);
    await fx?.close();
  }, 60_000);

  /** Starts a chat and collects its deltas; `whileStreaming` runs once the first delta arrived. */
  async function chat(messages: ChatMessage[], params: ChatParams, whileStreaming?: (streamId: string) => void | Promise<void>) {
    const streamId = `t${++n}`;
    const deltas: ChatDelta[] = [];
    let first: () => void = () => undefined;
    const firstDelta = new Promise<void>((r) => (first = r));
    const done = new Promise<ChatDone>((resolve) => {
      const off = fx.controller.subscribe((env) => {
        const d = env.data as { streamId?: string };
        if (d.streamId !== streamId) return;
        if (env.event === 'chat.delta') {
          deltas.push(env.data as ChatDelta);
          first();
        }
        if (env.event === 'chat.done') {
          off();
          resolve(ChatDone.parse(env.data));
        }
      });
    });
    const started = await fx.controller.handle('chat.start', { streamId, deployment: 'chat-itest', messages, params });
    if (whileStreaming) await firstDelta.then(() => whileStreaming(streamId));
    return { started, deltas, done: await done };
  }

  const workers = async () => {
    const view = await fx.controller.deployments.status(id);
    return { prefill: view.processes.find((p) => p.name === 'prefill-0')!, decode: view.processes.find((p) => p.name === 'decode-0')!, router: view.processes.find((p) => p.name === 'router')! };
  };

  it('streams the answer in several deltas and reports client stats and the router trace of the request', async () => {
    const { deltas, done } = await chat([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: longPrompt(120) }], { maxTokens: 24, temperature: 0, seed: 1 });
    expect(done.outcome).toBe('ok');
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.map((d) => d.text).join('')).toBe(done.text);
    expect(done.stats).toMatchObject({ outputTokens: 24, outputTokensSource: 'usage', finishReason: 'length' });
    expect(done.stats.inputTokens).toBeGreaterThan(100);
    expect(done.stats.ttftMs).toBeGreaterThan(0);
    expect(done.stats.itlMs).toBeGreaterThan(0);
    const w = await workers();
    const pd = pdStatsFromTrace(done.trace!);
    expect(pd).toMatchObject({ placement: 'remote', reason: 'disaggregated', prefillWorker: w.prefill.url, decodeWorker: w.decode.url, status: 'ok' });
    expect(pd.prefillMs).toBeGreaterThan(0);
    expect(pd.kvTransferUpperBoundMs).toBeGreaterThan(0);
    expect(pd.kvBlocks).toBeGreaterThan(0);
  });

  it('stops mid-stream: the decode leg is aborted, the trace shows the abort and no worker keeps running it', async () => {
    const w = await workers();
    const abortsBefore = await workerMetric(w.decode, 'vllm:request_success_total', { finished_reason: 'abort' });
    const { done } = await chat([{ role: 'user', content: 'Tell me a long story.' }], { maxTokens: 2000 }, async (streamId) => {
      await new Promise((r) => setTimeout(r, 200));
      await fx.controller.handle('chat.stop', { streamId });
    });
    expect(done.outcome).toBe('stopped');
    expect(done.error).toBeNull();
    expect(done.stats.outputTokens).toBeLessThan(2000);
    expect(done.trace).toMatchObject({ status: 'aborted', aborted: true, prefill: 'remote' });
    expect(pdStatsFromTrace(done.trace!).abortNote).toMatch(/cancelled the decode leg/);
    await expect.poll(() => workerMetric(w.decode, 'vllm:request_success_total', { finished_reason: 'abort' })).toBe(abortsBefore + 1);
    expect(await workerMetric(w.decode, 'vllm:num_requests_running')).toBe(0);
    expect(await workerMetric(w.prefill, 'vllm:num_requests_running')).toBe(0);
  });

  it('stops during the prefill leg: the prefill request is aborted and no decode leg is sent', async () => {
    const w = await workers();
    const prefillAborts = await workerMetric(w.prefill, 'vllm:request_success_total', { finished_reason: 'abort' });
    const decodeRequests = await workerMetric(w.decode, 'vllm:request_success_total');
    const streamId = `t${++n}`;
    const done = new Promise<ChatDone>((resolve) => {
      const off = fx.controller.subscribe((env) => {
        if (env.event === 'chat.done' && (env.data as { streamId: string }).streamId === streamId) {
          off();
          resolve(ChatDone.parse(env.data));
        }
      });
    });
    // ~1000 prompt tokens at 200 tokens/s: seconds in the prefill leg.
    await fx.controller.handle('chat.start', { streamId, deployment: id, messages: [{ role: 'user', content: longPrompt(900) }], params: { maxTokens: 8 } });
    await expect.poll(() => workerMetric(w.router, 'handoff_router_outstanding_requests', { role: 'prefill' }), { timeout: 5000 }).toBe(1);
    await fx.controller.handle('chat.stop', { streamId });
    const d = await done;
    expect(d.outcome).toBe('stopped');
    expect(d.text).toBe('');
    expect(d.trace).toMatchObject({ status: 'aborted', aborted: true, prefillDoneAtMs: null, decodeSentAtMs: null, httpStatus: 499 });
    expect(pdStatsFromTrace(d.trace!).abortNote).toMatch(/cancelled the prefill leg and sent no decode leg/);
    await expect.poll(() => workerMetric(w.prefill, 'vllm:request_success_total', { finished_reason: 'abort' })).toBe(prefillAborts + 1);
    expect(await workerMetric(w.decode, 'vllm:request_success_total')).toBe(decodeRequests);
  });

  it('reports a prompt longer than max_model_len inline as context-too-long, with the engine’s message', async () => {
    const { done } = await chat([{ role: 'user', content: longPrompt(3000) }], { maxTokens: 16 });
    expect(done.outcome).toBe('error');
    expect(done.error?.code).toBe('context-too-long');
    expect(done.error?.message).toMatch(/maximum context length is 2048 tokens/);
    expect(done.trace).toMatchObject({ status: 'error', httpStatus: 400 });
  });

  it('prints the answer and the same stats as JSON from `handoff chat --json`', async () => {
    const env = { HANDOFF_HOME: fx.home, HANDOFF_AGENT_HOME: path.join(fx.home, 'local-agent'), HOME: fx.userHome };
    const r = await runCli(['chat', 'chat-itest', longPrompt(80), '--json', '--system', 'Be brief.', '--max-tokens', '12', '--temperature', '0'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { deployment: { simulated: boolean; mode: string }; outcome: string; text: string; stats: { outputTokens: number; ttftMs: number }; pd: { placement: string; kvBlocks: number; prefillMs: number } };
    expect(out.deployment).toMatchObject({ simulated: true, mode: 'disaggregated' });
    expect(out.outcome).toBe('ok');
    expect(out.text.length).toBeGreaterThan(0);
    expect(out.stats.outputTokens).toBe(12);
    expect(out.stats.ttftMs).toBeGreaterThan(0);
    expect(out.pd.placement).toBe('remote');
    expect(out.pd.kvBlocks).toBeGreaterThan(0);

    const plain = await runCli(['chat', 'chat-itest', 'Hello there', '--max-tokens', '5'], env);
    expect(plain.code).toBe(0);
    expect(plain.stdout.trim().length).toBeGreaterThan(0);
    expect(plain.stderr).toMatch(/SIMULATED engine/);
    expect(plain.stderr).toMatch(/TTFT .* · ITL .* tokens\/s · input \d+ · output 5 tokens/);
    expect(plain.stderr).toMatch(/KV transfer ≤ .* \(upper bound: P done → D first token\) · KV blocks handed over \d+/);

    const bad = await runCli(['chat', 'chat-itest', 'x', '--temperature', 'hot'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--temperature must be a number/);
    const missing = await runCli(['chat', 'no-such-deployment', 'x'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no-such-deployment/);
  }, 240_000);

  it('says the deployment is down when its router is gone, and refuses a stopped deployment', async () => {
    const w = await workers();
    process.kill(-w.router.pid!, 'SIGKILL');
    await expect.poll(async () => (await workers()).router.state, { timeout: 15_000 }).not.toBe('ready');
    const { done } = await chat([{ role: 'user', content: 'hi' }], {});
    expect(done.outcome).toBe('error');
    expect(done.error?.code).toBe('deployment-down');
    expect(done.error?.message).toMatch(/handoff status chat-itest/);
    await fx.controller.deployments.teardown(id);
    await expect(fx.controller.handle('chat.start', { streamId: 'after-down', deployment: id, messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ code: 'deployment-stopped' });
    id = '';
  });
});
