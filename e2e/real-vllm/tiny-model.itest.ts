import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../mocker-harness';
import { TINY_MODEL, VLLM_PYTHON, realVllmSkipReason } from './real-vllm-env';

/**
 * The tiny model the real-vLLM tests serve is reproducible: the same script, corpus and library
 * versions give the same files, and a second run leaves an up-to-date model alone.
 */

const skip = realVllmSkipReason();
if (skip) console.warn(`skipping the tiny-model build test: ${skip}`);

const SCRIPT = path.join(REPO_ROOT, 'e2e', 'real-vllm', 'make-tiny-model.py');

function digests(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fs.readdirSync(dir).sort()) out[f] = createHash('sha256').update(fs.readFileSync(path.join(dir, f))).digest('hex');
  return out;
}

function run(args: string[]): { code: number | null; out: string } {
  const r = spawnSync(VLLM_PYTHON, [SCRIPT, ...args], { encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe.skipIf(skip !== null)('the tiny Llama model', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-tiny-model-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('builds byte-identical files from the shipped corpus and seed, in Hugging Face format with a chat template', () => {
    const out = path.join(tmp, 'tiny-llama');
    const r = run(['--out', out]);
    expect(r.code, r.out).toBe(0);
    expect(digests(out)).toEqual(digests(TINY_MODEL));
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ architectures: ['LlamaForCausalLM'], model_type: 'llama', num_hidden_layers: 4, num_key_value_heads: 2, head_dim: 64 });
    expect(fs.readFileSync(path.join(out, 'chat_template.jinja'), 'utf8')).toContain('add_generation_prompt');
    const tokenizer = JSON.parse(fs.readFileSync(path.join(out, 'tokenizer.json'), 'utf8')) as { model: { type: string }; pre_tokenizer: { type: string } };
    expect(tokenizer.model.type).toBe('BPE');
    expect(tokenizer.pre_tokenizer.type).toBe('ByteLevel');
    // Readable by other users: the loopback test host's agent runs as another account.
    for (const f of fs.readdirSync(out)) expect(fs.statSync(path.join(out, f)).mode & 0o044).toBe(0o044);
  }, 660_000);

  it('leaves an up-to-date model alone', () => {
    const r = run(['--out', path.join(tmp, 'tiny-llama')]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('up to date');
  }, 120_000);

  it('refuses a Python without torch with a message saying which Python to use', () => {
    const r = spawnSync('python3', [SCRIPT, '--out', path.join(tmp, 'other')], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: '' } });
    if (r.status === 0) return; // this machine's python3 has the libraries: nothing to refuse
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/is not installed in this Python; use \.venv-vllm\/bin\/python/);
  });
});
