import { describe, expect, it } from 'vitest';
import { computeChatStats, conversationTitle, laneMessages, pdStatsFromTrace, settleLoadedConversation, type ChatReply, type Conversation } from './chat';
import type { RouterTrace } from './router-trace';

const trace: RouterTrace = {
  v: 1, requestId: 'chat-1', endpoint: '/v1/chat/completions', mode: 'disaggregated', stream: true,
  arrivalAtMs: 1000, prefillSentAtMs: 1001, prefillDoneAtMs: 1051, decodeSentAtMs: 1052, firstTokenAtMs: 1070, lastTokenAtMs: 1500,
  finishedAtMs: 1501, prefillWorker: 'http://127.0.0.1:8100', decodeWorker: 'http://127.0.0.1:8200', prefill: 'remote', prefillReason: 'disaggregated',
  promptTokens: 300, promptTokensSource: 'usage', outputTokens: 20, outputTokensSource: 'usage', kvBlocks: 19, remoteEngineId: 'e', status: 'ok', httpStatus: 200, error: null, aborted: false,
};

describe('computeChatStats', () => {
  it('computes TTFT, ITL over the tokens after the first, and tokens/s as 1/ITL from usage counts', () => {
    const s = computeChatStats({ sentAtMs: 0, firstTokenAtMs: 100, lastTokenAtMs: 1000, endAtMs: 1001, textChunks: 10, usage: { promptTokens: 42, completionTokens: 10 }, finishReason: 'length' });
    expect(s).toEqual({ ttftMs: 100, itlMs: 100, tokensPerS: 10, e2eMs: 1000, inputTokens: 42, outputTokens: 10, outputTokensSource: 'usage', finishReason: 'length' });
  });

  it('falls back to counting chunks when a stopped stream never sent usage, and has no ITL for one chunk', () => {
    const stopped = computeChatStats({ sentAtMs: 0, firstTokenAtMs: 50, lastTokenAtMs: 250, endAtMs: 300, textChunks: 5, usage: null, finishReason: null });
    expect(stopped).toMatchObject({ outputTokens: 5, outputTokensSource: 'chunks', itlMs: 50, inputTokens: null });
    const single = computeChatStats({ sentAtMs: 0, firstTokenAtMs: 50, lastTokenAtMs: 50, endAtMs: 60, textChunks: 1, usage: { promptTokens: 1, completionTokens: 4 }, finishReason: 'stop' });
    expect(single.itlMs).toBeNull();
    expect(single.tokensPerS).toBeNull();
    const none = computeChatStats({ sentAtMs: 0, firstTokenAtMs: null, lastTokenAtMs: null, endAtMs: 70, textChunks: 0, usage: null, finishReason: null });
    expect(none).toMatchObject({ ttftMs: null, outputTokens: null, outputTokensSource: null, e2eMs: 70 });
  });
});

describe('pdStatsFromTrace', () => {
  it('reads prefill time, the KV transfer upper bound (P done to first token) and the blocks handed over', () => {
    expect(pdStatsFromTrace(trace)).toMatchObject({ placement: 'remote', prefillMs: 50, kvTransferUpperBoundMs: 19, kvBlocks: 19, routerTtftMs: 70, prefillWorker: 'http://127.0.0.1:8100' });
  });

  it('has no KV numbers for a request the decode worker prefilled, and says why', () => {
    const local = pdStatsFromTrace({ ...trace, prefill: 'local', prefillReason: 'short-prompt', prefillSentAtMs: null, prefillDoneAtMs: null, prefillWorker: null, kvBlocks: null });
    expect(local).toMatchObject({ placement: 'local', prefillMs: null, kvTransferUpperBoundMs: null, kvBlocks: null });
    expect(local.reasonText).toMatch(/shorter than the remote-prefill threshold/);
  });
});

describe('conversations', () => {
  const reply = (lane: number, content: string, state: ChatReply['state'] = 'done'): ChatReply => ({
    lane, streamId: `s${lane}`, requestId: null, deploymentId: 'd', deploymentName: 'd', simulated: true, mode: 'disaggregated', content, state, stats: null, trace: null, traceNote: null, error: null, startedAt: '2026-01-01T00:00:00Z',
  });
  const conv: Conversation = {
    v: 1, id: 'c1', title: 't', createdAt: '', updatedAt: '', systemPrompt: 'Be brief.', params: {}, lanes: [{ deployment: 'a' }, { deployment: 'b' }],
    turns: [
      { id: 't1', user: 'hello', at: '', replies: [reply(0, 'hi from A'), reply(1, 'oops', 'error')] },
      { id: 't2', user: 'again', at: '', replies: [reply(0, '', 'streaming'), reply(1, 'partial', 'streaming')] },
    ],
  };

  it('builds each lane its own history: system prompt, earlier turns with that lane’s answers, failed answers left out', () => {
    expect(laneMessages(conv, 0, 1)).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hello' },
      { role: 'assistant', content: 'hi from A' },
      { role: 'user', content: 'again' },
    ]);
    expect(laneMessages({ ...conv, systemPrompt: '  ' }, 1, 1)).toEqual([
      { role: 'user', content: 'hello' },
      { role: 'user', content: 'again' },
    ]);
  });

  it('reads a reply saved mid-stream back as stopped', () => {
    const settled = settleLoadedConversation(conv);
    expect(settled.turns[1]!.replies.map((r) => r.state)).toEqual(['stopped', 'stopped']);
    expect(settled.turns[0]!.replies[1]!.state).toBe('error');
  });

  it('titles a conversation by the first line of its first message', () => {
    expect(conversationTitle('  Explain KV caches\nin detail')).toBe('Explain KV caches');
    expect(conversationTitle('')).toBe('New conversation');
    expect(conversationTitle('x'.repeat(80))).toHaveLength(58);
  });
});
