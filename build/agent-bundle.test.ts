import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HANDOFF_VERSION } from '../common/version';
import { buildAgentBundle } from './agent-bundle';

const run = promisify(execFile);
let dir: string;
let bundle: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hoa-bundle-'));
  bundle = await buildAgentBundle(path.join(dir, 'handoff-agent.cjs'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('agent bundle', () => {
  it('is one executable CommonJS file with a shebang that runs without node_modules', async () => {
    const text = await fs.readFile(bundle, 'utf8');
    expect(text.startsWith('#!/usr/bin/env node\n"use strict";')).toBe(true);
    expect((await fs.stat(bundle)).mode & 0o111).not.toBe(0);
    // Copied away from the repository, so nothing can be resolved from node_modules.
    const { stdout } = await run(bundle, ['version'], { cwd: dir });
    expect(stdout.trim()).toBe(HANDOFF_VERSION);
  });

  it('keeps subcommands lazy: an unknown one prints usage without starting anything', async () => {
    const err = (await run(process.execPath, [bundle, 'nope']).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(2);
    expect(err.stderr).toContain('usage: handoff-agent <daemon|attach|');
  });

  it('ships zod with English messages only', async () => {
    const text = await fs.readFile(bundle, 'utf8');
    expect(text).toContain('Invalid input');
    expect(text).not.toContain('Kreditkartennummer'); // from the German locale
  });
});
