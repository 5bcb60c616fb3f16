import { describe, expect, it } from 'vitest';
import { SseScanner } from './sse-scanner';

const ev = (v: unknown): string => `data: ${JSON.stringify(v)}\n\n`;
const chatDelta = (delta: Record<string, unknown>, finish: string | null = null) => ev({ object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] });

describe('SseScanner', () => {
  it('times the first chunk that carries text, not the role-only chunk', () => {
    const s = new SseScanner();
    s.push(Buffer.from(chatDelta({ role: 'assistant', content: '' })), 1);
    expect(s.firstTokenAtMs).toBeNull();
    s.push(Buffer.from(chatDelta({ content: 'Hi' })), 2);
    s.push(Buffer.from(chatDelta({ content: '!' }, 'stop')), 3);
    s.push(Buffer.from('data: [DONE]\n\n'), 4);
    expect(s).toMatchObject({ firstTokenAtMs: 2, lastTokenAtMs: 3, tokenChunks: 2, done: true });
  });

  it('reassembles events and multi-byte characters split across reads', () => {
    const s = new SseScanner();
    const bytes = Buffer.from(ev({ choices: [{ index: 0, text: 'héllo' }] }) + ev({ choices: [{ index: 0, text: '✓' }] }));
    for (let i = 0; i < bytes.length; i++) s.push(bytes.subarray(i, i + 1), i);
    expect(s.tokenChunks).toBe(2);
    expect(s.firstTokenAtMs).not.toBeNull();
  });

  it('reads usage from the final usage-only chunk and does not count it as a token', () => {
    const s = new SseScanner();
    s.push(Buffer.from(ev({ choices: [{ index: 0, text: 'a' }] }) + ev({ choices: [{ index: 0, text: 'b' }] })), 1);
    s.push(Buffer.from(ev({ choices: [], usage: { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 } }) + 'data: [DONE]\n\n'), 2);
    expect(s.finish()).toEqual({ promptTokens: 7, completionTokens: 2 });
    expect(s.tokenChunks).toBe(2);
    expect(s.lastTokenAtMs).toBe(1);
  });

  it('records an in-stream error event', () => {
    const s = new SseScanner();
    s.push(Buffer.from(ev({ error: { message: 'KV transfer failed', code: 500 } })), 1);
    expect(s.errorMessage).toBe('KV transfer failed');
  });

  it('counts reasoning and tool-call deltas as tokens and ignores comments', () => {
    const s = new SseScanner();
    s.push(Buffer.from(': keep-alive\n\n' + chatDelta({ reasoning_content: 'think' }) + ': ping\ndata: ' + JSON.stringify({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0 }] } }] }) + '\n\n'), 5);
    expect(s.tokenChunks).toBe(2);
    expect(s.firstTokenAtMs).toBe(5);
  });
});
