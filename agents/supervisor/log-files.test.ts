import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lastLinesOfFile, lastLogLines, LogFollower, rotateIfLarge } from './log-files';

let dir: string;
let file: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hlog-'));
  file = path.join(dir, 'p.log');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}`);

describe('log tails', () => {
  it('reads the last lines of a large file backwards, across chunk boundaries, with multi-byte text intact', () => {
    const body = lines(1, 20_000).map((l) => `${l} héllo ✓`);
    fs.writeFileSync(file, body.join('\n') + '\n');
    expect(lastLinesOfFile(file, 3)).toEqual(body.slice(-3));
    expect(lastLinesOfFile(file, 5000)).toEqual(body.slice(-5000));
    expect(lastLinesOfFile(file, 50_000)).toEqual(body);
    expect(lastLinesOfFile(file, 0)).toEqual([]);
    expect(lastLinesOfFile(path.join(dir, 'missing.log'), 5)).toEqual([]);
  });

  it('keeps a last line without a newline and stops at a given offset', () => {
    fs.writeFileSync(file, 'a\nb\nc');
    expect(lastLinesOfFile(file, 2)).toEqual(['b', 'c']);
    expect(lastLinesOfFile(file, 5, 4)).toEqual(['a', 'b']);
  });

  it('reaches into the rotated file when the current one has too few lines', () => {
    fs.writeFileSync(`${file}.1`, lines(1, 10).join('\n') + '\n');
    fs.writeFileSync(file, lines(11, 12).join('\n') + '\n');
    expect(lastLogLines(file, 5)).toEqual(lines(8, 12));
  });
});

describe('rotateIfLarge', () => {
  it('copies, truncates and shifts, keeping only the configured number of rotated files', () => {
    fs.writeFileSync(file, 'small\n');
    expect(rotateIfLarge(file, 100, 2)).toBe(false);
    for (let round = 1; round <= 4; round++) {
      fs.writeFileSync(file, `round ${round} ${'x'.repeat(200)}\n`);
      expect(rotateIfLarge(file, 100, 2)).toBe(true);
      expect(fs.statSync(file).size).toBe(0);
    }
    expect(fs.readFileSync(`${file}.1`, 'utf8')).toMatch(/^round 4/);
    expect(fs.readFileSync(`${file}.2`, 'utf8')).toMatch(/^round 3/);
    expect(fs.existsSync(`${file}.3`)).toBe(false);
  });

  it('keeps a writer with an O_APPEND descriptor writing at the start of the emptied file', () => {
    const fd = fs.openSync(file, 'a');
    try {
      fs.writeSync(fd, 'x'.repeat(500) + '\n');
      rotateIfLarge(file, 100, 3);
      fs.writeSync(fd, 'after\n');
      expect(fs.readFileSync(file, 'utf8')).toBe('after\n');
    } finally {
      fs.closeSync(fd);
    }
  });
});

describe('LogFollower', () => {
  it('delivers only new complete lines, and finishes the rotated file before the new one', () => {
    fs.writeFileSync(file, 'old 1\nold 2\n');
    const got: string[] = [];
    const f = new LogFollower(file, (l) => got.push(l));
    fs.appendFileSync(file, 'new 1\nnew 2\npart');
    f.poll();
    expect(got).toEqual(['new 1', 'new 2']);
    fs.appendFileSync(file, 'ial\nbefore rotation\n');
    rotateIfLarge(file, 10, 2);
    fs.appendFileSync(file, 'after rotation\n');
    f.poll();
    expect(got).toEqual(['new 1', 'new 2', 'partial', 'before rotation', 'after rotation']);
  });
});
