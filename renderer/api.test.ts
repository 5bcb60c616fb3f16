import { describe, expect, it } from 'vitest';
import { readServeToken } from './api';

function memoryStorage(): Pick<Storage, 'getItem' | 'setItem'> & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) };
}

describe('serve token', () => {
  it('takes the token from the page URL and keeps it for the session', () => {
    const s = memoryStorage();
    expect(readServeToken('?token=abc', s)).toBe('abc');
    expect(readServeToken('', s)).toBe('abc');
  });

  it('prefers a new token in the URL over a stored one, and has none without either', () => {
    const s = memoryStorage();
    s.setItem('handoff.token', 'old');
    expect(readServeToken('?token=new', s)).toBe('new');
    expect(readServeToken('', memoryStorage())).toBeNull();
  });
});
