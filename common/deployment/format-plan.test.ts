import { describe, expect, it } from 'vitest';
import { displayQuote } from './display-quote';
import { formatCommand } from './format-plan';
import { formatProblems } from './problems';

describe('plan formatting', () => {
  it('quotes only the words a shell would mangle', () => {
    expect(displayQuote('/opt/venv/bin/vllm')).toBe('/opt/venv/bin/vllm');
    expect(displayQuote('mlx5_0:1,mlx5_1:1')).toBe('mlx5_0:1,mlx5_1:1');
    expect(displayQuote('{"kv_role":"kv_producer"}')).toBe(`'{"kv_role":"kv_producer"}'`);
    expect(displayQuote("it's")).toBe(`'it'\\''s'`);
    expect(displayQuote('rc,ud,sm,^cuda_ipc')).toBe(`'rc,ud,sm,^cuda_ipc'`);
    expect(displayQuote('')).toBe(`''`);
    expect(displayQuote('0-1|2-3')).toBe(`'0-1|2-3'`);
  });

  it('puts env first and each flag with its value on its own continued line', () => {
    expect(formatCommand({ A: '1', B: 'x y' }, ['vllm', 'serve', 'm', '--port', '8100', '--enforce-eager', '--n', '-1'])).toEqual([
      'A=1 \\',
      "B='x y' \\",
      'vllm serve m \\',
      '  --port 8100 \\',
      '  --enforce-eager \\',
      '  --n -1',
    ]);
  });

  it('shows a pinned process behind taskset -c, after its environment', () => {
    expect(formatCommand({ A: '1' }, ['vllm', 'serve', 'm', '--port', '8100'], '1,3')).toEqual(['A=1 \\', 'taskset -c 1,3 \\', 'vllm serve m \\', '  --port 8100']);
  });

  it('prints problems as file:line:col, severity, code, spec path and message', () => {
    expect(formatProblems([{ code: 'gpu-busy', severity: 'error', message: 'GPU 1 is used.', path: ['workers', 1, 'gpus'], line: 12, column: 5 }], 'spec.yaml')).toBe(
      'spec.yaml:12:5: error [gpu-busy] (workers[1].gpus) GPU 1 is used.',
    );
  });
});
