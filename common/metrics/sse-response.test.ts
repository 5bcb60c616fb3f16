import { describe, expect, it } from 'vitest';
import { parseChunkData, preprocessOpenAiResponses, sseEventsData } from './sse-response';

const chunk = (delta: Record<string, unknown>) => `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta }] })}\n\n`;

describe('parseChunkData', () => {
  it('reads chat deltas, messages, completions text, reasoning, usage, errors and [DONE]', () => {
    expect(parseChunkData('{"choices":[{"delta":{"content":"Hi"}}]}')).toMatchObject({ content: 'Hi', reasoning: '' });
    expect(parseChunkData('{"choices":[{"message":{"content":"whole"}}]}').content).toBe('whole');
    expect(parseChunkData('{"object":"text_completion","choices":[{"text":"t"}]}').content).toBe('t');
    expect(parseChunkData('{"choices":[{"delta":{"reasoning_content":"hmm"}}]}')).toMatchObject({ content: '', reasoning: 'hmm' });
    expect(parseChunkData('{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5}}').usage).toEqual({ promptTokens: 3, completionTokens: 5 });
    expect(parseChunkData('{"error":{"message":"overloaded"}}').error).toBe('overloaded');
    expect(parseChunkData('[DONE]').done).toBe(true);
    expect(parseChunkData('not json')).toMatchObject({ content: '', done: false });
  });

  it('splits SSE text into event payloads', () => {
    expect(sseEventsData('data: a\n\ndata: b\r\n\r\n: comment\n\n')).toEqual(['a', 'b']);
  });
});

describe('preprocessOpenAiResponses (GenAI-Perf §4.1)', () => {
  it('drops role-only, usage and [DONE] responses with their timestamps and keeps the usage', () => {
    const outputs = [
      chunk({ role: 'assistant' }),
      chunk({ content: 'Hel' }),
      chunk({ content: 'lo' }),
      `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 7, completion_tokens: 2 } })}\n\n`,
      'data: [DONE]\n\n',
    ];
    const r = preprocessOpenAiResponses([10, 20, 30, 40, 50], outputs);
    expect(r.keptNs).toEqual([20, 30]);
    expect(r.texts).toEqual(['Hel', 'lo']);
    expect(r.usage).toEqual({ promptTokens: 7, completionTokens: 2 });
    expect(r.error).toBeNull();
  });

  it('joins a splintered event onto the previous response and keeps the earlier timestamp', () => {
    const whole = chunk({ content: 'abc' });
    const r = preprocessOpenAiResponses([10, 20, 30], [chunk({ content: 'x' }), whole.slice(0, 25), whole.slice(25)]);
    expect(r.keptNs).toEqual([10, 20]);
    expect(r.texts).toEqual(['x', 'abc']);
  });

  it('joins several events in one response under that response’s timestamp', () => {
    const r = preprocessOpenAiResponses([10], [chunk({ content: 'a' }) + chunk({ content: 'b' })]);
    expect(r.keptNs).toEqual([10]);
    expect(r.texts).toEqual(['ab']);
  });

  it('ignores reasoning-only chunks as GenAI-Perf does', () => {
    const r = preprocessOpenAiResponses([10, 20], [chunk({ reasoning_content: 'think' }), chunk({ content: 'answer' })]);
    expect(r.keptNs).toEqual([20]);
  });

  it('marks the request failed on an error event', () => {
    const r = preprocessOpenAiResponses([10, 20], [chunk({ content: 'a' }), 'data: {"error":{"message":"boom"}}\n\n']);
    expect(r.error).toBe('boom');
    expect(r.keptNs).toEqual([]);
  });

  it('treats a non-streaming body as one response', () => {
    const r = preprocessOpenAiResponses([99], ['{"choices":[{"message":{"content":"full answer"}}],"usage":{"prompt_tokens":4,"completion_tokens":2}}']);
    expect(r.keptNs).toEqual([99]);
    expect(r.usage?.completionTokens).toBe(2);
  });
});
