import { describe, expect, it } from 'vitest';
import { isEnvSecretName, redactExportText, redactForExport } from './export-redact';

describe('export redaction', () => {
  it('blanks secret-named environment variables of specs and plans, and keeps ordinary ones', () => {
    const spec = { env: { HF_TOKEN: 'hf_x', MY_SERVICE_TOKEN: 'abc', WANDB_API_KEY: 'k', AWS_SECRET_ACCESS_KEY: 's', LOG_LEVEL: 'info', VLLM_NIXL_SIDE_CHANNEL_PORT: '5600' } };
    const r = redactForExport(spec);
    expect(r.env).toEqual({ HF_TOKEN: '[redacted]', MY_SERVICE_TOKEN: '[redacted]', WANDB_API_KEY: '[redacted]', AWS_SECRET_ACCESS_KEY: '[redacted]', LOG_LEVEL: 'info', VLLM_NIXL_SIDE_CHANNEL_PORT: '5600' });
  });

  it('redacts the word after a secret flag in an argv array', () => {
    expect(redactForExport({ argv: ['genai-perf', '--token', 'abc', '--api-key', 'xyz', '-m', 'model'] }).argv).toEqual(['genai-perf', '--token', '[redacted]', '--api-key', '[redacted]', '-m', 'model']);
  });

  it('leaves metric names that merely contain "token" alone', () => {
    expect(isEnvSecretName('output_token_count')).toBe(false);
    expect(isEnvSecretName('maxTokens')).toBe(false);
    expect(redactForExport({ outputTokens: { usage: 3 }, tokenizer: 'gpt2' })).toEqual({ outputTokens: { usage: 3 }, tokenizer: 'gpt2' });
  });

  it('redacts tokens in argv, headers, URLs and assignments in text', () => {
    const text = [
      'genai-perf --api-key sk-abcdefghijklmnopqrstuv --token t0ps3cret',
      'curl -H "Authorization: Bearer abcdef123456" https://u:pw@host/x?api_key=zzz',
      'MY_SERVICE_TOKEN=plain42 LOG_LEVEL=debug',
    ].join('\n');
    const out = redactExportText(text);
    for (const s of ['sk-abcdefghijklmnopqrstuv', 't0ps3cret', 'abcdef123456', ':pw@', 'zzz', 'plain42']) expect(out).not.toContain(s);
    expect(out).toContain('LOG_LEVEL=debug');
  });
});
