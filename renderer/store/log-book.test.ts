import { describe, expect, it } from 'vitest';
import { LogBook } from './log-book';

const line = (followId: string, process: string, text: string) => ({ followId, id: 'd1', process, host: 'h', line: text, at: '2026-01-01T00:00:00Z' });

describe('LogBook', () => {
  it('starts from the reply\'s last lines and appends followed lines in arrival order across processes', () => {
    const book = new LogBook();
    book.reset('d1', { logs: [{ process: 'a', host: 'h', file: '/a.log', lines: ['a1', 'a2'] }, { process: 'b', host: 'h', file: '/b.log', lines: ['b1'] }], followId: 'f1' });
    expect(book.append(line('f1', 'b', 'b2'))).toBe(true);
    expect(book.append(line('f1', 'a', 'a3'))).toBe(true);
    expect(book.lines('d1', null, 10).map((e) => e.line)).toEqual(['a1', 'a2', 'b1', 'b2', 'a3']);
    expect(book.lines('d1', 'a', 10).map((e) => e.line)).toEqual(['a1', 'a2', 'a3']);
    expect(book.lines('d1', null, 2).map((e) => e.line)).toEqual(['b2', 'a3']);
    expect(book.processes('d1')).toEqual(['a', 'b']);
  });

  it('keeps lines that arrive before the reply names their follow, and drops those of other windows', () => {
    const book = new LogBook();
    expect(book.append(line('f9', 'a', 'early'))).toBe(false);
    expect(book.append(line('f-other', 'a', 'not mine'))).toBe(false);
    book.reset('d1', { logs: [{ process: 'a', host: 'h', file: '/a.log', lines: ['old'] }], followId: 'f9' });
    expect(book.lines('d1', 'a', 10).map((e) => e.line)).toEqual(['old', 'early']);
  });

  it('caps each process at its line limit and stops taking lines once forgotten', () => {
    const book = new LogBook(10);
    book.reset('d1', { logs: [], followId: 'f1' });
    for (let i = 0; i < 100; i++) book.append(line('f1', 'chatty', `c${i}`));
    book.append(line('f1', 'quiet', 'q0'));
    const chatty = book.lines('d1', 'chatty', 1000);
    expect(chatty.length).toBeLessThanOrEqual(10);
    expect(chatty.at(-1)?.line).toBe('c99');
    expect(book.lines('d1', 'quiet', 10).map((e) => e.line)).toEqual(['q0']);
    book.forget('f1');
    expect(book.append(line('f1', 'quiet', 'q1'))).toBe(false);
    expect(book.lines('d1', 'unknown', 10)).toEqual([]);
    expect(book.lines('nope', null, 10)).toEqual([]);
  });
});
