import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importArtifacts } from './import';
import { redactText, redactValue } from './redact';

const COPY = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../e2e/fixtures/bench-artifacts');
const SECRETS = ['sk-live-0123456789abcdefXYZ', 'hunter2pass', 'tok_QWERTY98765', 'hf_abcdefghijklmnopqrstuvwx', 'sekret-header-val', 'pa55word', 'envtoken123'];

describe('redactText', () => {
  it.each([
    ['aiperf profile --api-key sk-live-0123456789abcdefXYZ --url x', 'aiperf profile --api-key [redacted] --url x'],
    ['--api-key="hunter2pass" -m m', '--api-key=[redacted] -m m'],
    ["-H 'Authorization: Bearer tok_QWERTY98765'", "-H 'Authorization: [redacted]'"],
    ['Authorization:Bearer tok_QWERTY98765', 'Authorization:[redacted]'],
    ['http://host/v1?api_key=tok_QWERTY98765&x=1', 'http://host/v1?api_key=[redacted]&x=1'],
    ['https://user:pa55word@host:8000/v1', 'https://user:[redacted]@host:8000/v1'],
    ['HF_TOKEN=envtoken123 vllm serve', 'HF_TOKEN=[redacted] vllm serve'],
    ['token hf_abcdefghijklmnopqrstuvwx in a log', 'token [redacted] in a log'],
    ['{"api_key": "hunter2pass", "n": 1}', '{"api_key": "[redacted]", "n": 1}'],
    ['"payload": "{\\"api_key\\": \\"hunter2pass\\"}"', '"payload": "{\\"api_key\\": \\"[redacted]\\"}"'],
  ])('redacts %j', (input, expected) => {
    expect(redactText(input)).toBe(expected);
  });

  it('leaves token counts, tokenizer names and max_tokens alone', () => {
    const s = '{"output_tokens": {"mean": 300}, "tokenizer": {"name": "gpt2"}, "max_tokens": 150, "total_output_tokens": {"unit": "tokens", "avg": 5}}';
    expect(redactText(s)).toBe(s);
  });
});

describe('redactValue', () => {
  it('blanks secret-named keys at any depth and redacts strings elsewhere', () => {
    const v = redactValue({ endpoint: { api_key: 'hunter2pass', url: 'http://h' }, headers: { Authorization: 'Bearer tok_QWERTY98765' }, cmd: ['--api-key', 'x', '--token=tok_QWERTY98765'], n: 3 });
    expect(v).toEqual({ endpoint: { api_key: '[redacted]', url: 'http://h' }, headers: { Authorization: '[redacted]' }, cmd: ['--api-key', 'x', '--token=[redacted]'], n: 3 });
  });
});

describe('import redaction', () => {
  it('leaves no planted secret in the normalised run or the kept file texts', () => {
    const aiperf = JSON.parse(readFileSync(resolve(COPY, 'aiperf/profile_export_aiperf.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    const ic = aiperf.input_config!;
    (ic.endpoint as Record<string, unknown>).api_key = SECRETS[0];
    (ic.endpoint as Record<string, unknown>).url = 'https://user:pa55word@vllm:80/v1?token=tok_QWERTY98765';
    (ic.endpoint as Record<string, unknown>).model_names = ['org/model?api_key=hunter2pass'];
    ic.headers = ['Authorization: Bearer sekret-header-val'];
    ic.cli_command = `HF_TOKEN=envtoken123 aiperf profile --api-key "${SECRETS[0]}" -H 'Authorization: Bearer sekret-header-val' --tokenizer-token hf_abcdefghijklmnopqrstuvwx`;
    const jsonl = readFileSync(resolve(COPY, 'aiperf/v0.1.0-dev-run1/profile_export.jsonl'), 'utf8').split('\n');
    jsonl[0] = jsonl[0]!.replace('Request was cancelled', 'Upstream said: Authorization: Bearer sekret-header-val was rejected');
    const run = importArtifacts([
      { name: 'profile_export_aiperf.json', text: JSON.stringify(aiperf, null, 2) },
      { name: 'profile_export.jsonl', text: jsonl.join('\n') },
    ]);
    const all = JSON.stringify(run);
    for (const s of SECRETS) expect(all, s).not.toContain(s);
    expect(run.workload.model).toBe('org/model?api_key=[redacted]');
    for (const f of run.files) expect(() => (f.kind === 'aiperf-jsonl' ? f.text.split('\n').filter(Boolean).map((l) => JSON.parse(l)) : JSON.parse(f.text))).not.toThrow();
    expect(run.requests![0]!.error!.message).toContain('Authorization: [redacted]');
  });

  it('redacts auth headers in GenAI-Perf input_config and perf_analyzer request payloads', () => {
    const gp = JSON.parse(readFileSync(resolve(COPY, 'genai-perf/profile_export_genai_perf.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    (gp.input_config!.input as Record<string, unknown>).header = 'Authorization:Bearer sekret-header-val';
    const payload = JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }], api_key: 'hunter2pass' });
    const pa = {
      experiments: [{ experiment: { mode: 'concurrency', value: 1 }, requests: [{ timestamp: 1000, request_inputs: { payload }, response_timestamps: [2000, 3000], response_outputs: [{ response: 'data: {"choices":[{"delta":{"content":"a"}}]}\n\n' }, { response: 'data: [DONE]\n\n' }] }] }],
      version: '2.0', service_kind: 'openai', endpoint: 'v1/chat/completions',
    };
    const run = importArtifacts([
      { name: 'profile_export_genai_perf.json', text: JSON.stringify(gp) },
      { name: 'profile_export.json', text: JSON.stringify(pa) },
    ]);
    const all = JSON.stringify(run);
    expect(all).not.toContain('sekret-header-val');
    expect(all).not.toContain('hunter2pass');
    expect(() => JSON.parse(run.files[1]!.text)).not.toThrow();
  });
});
