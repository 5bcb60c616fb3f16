import { describe, expect, it } from 'vitest';
import { BOS_TOKEN_ID, decode, encode, encodeChat } from './tokenizer';

describe('the mocker tokenizer', () => {
  it('round-trips any text, including non-ASCII and odd spacing', () => {
    for (const s of ['Hello there, how are you?', '  two  spaces\nand a newline', 'naïve café ☕ 日本語', 'Supercalifragilistic42!']) {
      expect(decode(encode(s))).toBe(s);
    }
  });

  it('adds BOS only when asked and spends one token on a known word', () => {
    expect(encode('the', true)[0]).toBe(BOS_TOKEN_ID);
    expect(encode(' the river', false)).toHaveLength(2);
    expect(encode('Zyxwvut', false).length).toBe(4);
  });

  it('is deterministic and counts chat prompts consistently', () => {
    const msgs = [{ role: 'user', content: 'hi there' }];
    expect(encodeChat(msgs, true)).toEqual(encodeChat(msgs, true));
    expect(encodeChat(msgs, true).length).toBeGreaterThan(encodeChat(msgs, false).length);
  });
});
