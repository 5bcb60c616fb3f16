import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { quoteWord, shellQuote } from './shell-quote';

/** Runs the quoted line in a real sh and returns the words it received, NUL-separated by printf. */
function roundTrip(args: string[]): string[] {
  const line = shellQuote(['printf', '%s\\0', ...args]);
  const r = spawnSync('/bin/sh', ['-c', line], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const out = r.stdout.split('\0');
  out.pop();
  return out;
}

const NASTY = [
  '',
  ' ',
  'two words',
  "it's",
  "''",
  '"double"',
  '$HOME',
  '${PATH}',
  '$(id)',
  '`id`',
  'a\nb',
  '\n',
  'tab\there',
  '\\',
  'back\\slash\\n',
  '*',
  '?',
  '[a-z]',
  '~',
  '~/x',
  '!',
  '#not-a-comment',
  'a;b',
  'a&&b',
  'a|b',
  '>out',
  '<in',
  '(sub)',
  '{a,b}',
  'x=1',
  '-n',
  '--flag=value with space',
  'ünïcødé ✓',
  "mixed 'single' and \"double\" $x `y` \\z\n",
];

describe('shellQuote', () => {
  it('passes every nasty argument through sh unchanged', () => {
    expect(roundTrip(NASTY)).toEqual(NASTY);
  });

  it('passes each nasty argument alone unchanged (no word splitting or globbing)', () => {
    for (const a of NASTY) expect(roundTrip([a])).toEqual([a]);
  });

  it('keeps plain words readable', () => {
    expect(shellQuote(['nvidia-smi', '--query-gpu=index,name', '--format=csv,noheader'])).toBe(
      'nvidia-smi --query-gpu=index,name --format=csv,noheader',
    );
    expect(shellQuote(['/home/u/.handoff/agent/0.1.0/node/bin/node', 'x.cjs'])).toBe(
      '/home/u/.handoff/agent/0.1.0/node/bin/node x.cjs',
    );
  });

  it('quotes empty strings so they stay arguments', () => {
    expect(shellQuote(['echo', ''])).toBe("echo ''");
  });

  it('quotes an assignment-looking first word so sh runs it instead of assigning', () => {
    expect(quoteWord('A=b', true)).toBe("'A=b'");
    const r = spawnSync('/bin/sh', ['-c', shellQuote(['A=b'])], { encoding: 'utf8' });
    expect(r.status).toBe(127);
  });

  it('writes single quotes as close-escape-reopen', () => {
    expect(quoteWord("it's")).toBe("'it'\\''s'");
  });

  it('refuses NUL bytes and empty argv with an error', () => {
    expect(() => shellQuote(['a\0b'])).toThrow(/NUL/);
    expect(() => shellQuote([])).toThrow(/empty argv/);
  });
});
