import { describe, expect, it } from 'vitest';
import { chatPromptText, completionPromptText, judgePromptLength, tokenizeBody } from './prompt-length';

describe('prompt length for conditional disaggregation', () => {
  it('decides short prompts from the byte upper bound without asking a worker', () => {
    expect(judgePromptLength(completionPromptText('hello'), 200)).toMatchObject({ kind: 'short', source: 'estimate' });
  });

  it('decides long prompts when even 8 bytes per token would exceed the threshold', () => {
    expect(judgePromptLength(completionPromptText('x'.repeat(8000)), 1000)).toMatchObject({ kind: 'long', tokens: 2000 });
  });

  it('asks /tokenize in between', () => {
    expect(judgePromptLength(completionPromptText('x'.repeat(2000)), 1000)).toEqual({ kind: 'ask' });
  });

  it('counts token-id prompts exactly', () => {
    expect(judgePromptLength(completionPromptText([1, 2, 3]), 3)).toEqual({ kind: 'long', tokens: 3, source: 'exact' });
    expect(judgePromptLength(completionPromptText([[1, 2], [3]]), 4)).toEqual({ kind: 'short', tokens: 3, source: 'exact' });
  });

  it('adds text parts of chat messages, including multimodal text parts', () => {
    const p = chatPromptText([{ role: 'system', content: 'abc' }, { role: 'user', content: [{ type: 'text', text: 'dé' }, { type: 'image_url' }] }]);
    expect(p).toEqual({ bytes: 6, parts: 2, exactTokens: null });
  });

  it('builds the chat and completion forms of /tokenize', () => {
    expect(tokenizeBody('/v1/chat/completions', { model: 'm', messages: [], tools: [], temperature: 1 })).toEqual({ model: 'm', messages: [], add_generation_prompt: true, tools: [] });
    expect(tokenizeBody('/v1/completions', { prompt: 'x', max_tokens: 3 })).toEqual({ prompt: 'x' });
    expect(tokenizeBody('/v1/completions', { prompt: ['a', 'b'] })).toBeNull();
  });
});
