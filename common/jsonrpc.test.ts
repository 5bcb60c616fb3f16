import { describe, expect, it } from 'vitest';
import { LineSplitter, parseRpcLine } from './jsonrpc';

describe('LineSplitter', () => {
  it('joins lines split across chunks and strips CR', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    s.push('{"a":');
    s.push('1}\r\n\n{"b":2}\n{"c"');
    s.push(':3}\n');
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('reports an oversize line once and drops all of it, keeping the lines after it', () => {
    const lines: string[] = [];
    let overflows = 0;
    const s = new LineSplitter((l) => lines.push(l), 10, () => overflows++);
    s.push('{"ok":1}\n' + 'x'.repeat(8));
    s.push('y'.repeat(8));
    s.push('z'.repeat(50));
    s.push('tail}\n{"ok":2}\n');
    s.push('q'.repeat(20) + '\n{"ok":3}\n');
    expect(lines).toEqual(['{"ok":1}', '{"ok":2}', '{"ok":3}']);
    expect(overflows).toBe(2);
  });
});

describe('parseRpcLine', () => {
  it('classifies requests, notifications, responses and garbage', () => {
    expect(parseRpcLine('{"jsonrpc":"2.0","id":1,"method":"agent.ping"}').kind).toBe('request');
    expect(parseRpcLine('{"jsonrpc":"2.0","method":"agent.log","params":{}}').kind).toBe('notification');
    expect(parseRpcLine('{"jsonrpc":"2.0","id":1,"result":null}').kind).toBe('response');
    expect(parseRpcLine('nope')).toMatchObject({ kind: 'invalid', id: null, error: { code: -32700 } });
    expect(parseRpcLine('{"jsonrpc":"1.0","id":7,"method":"x"}')).toMatchObject({ kind: 'invalid', id: 7, error: { code: -32600 } });
  });
});
