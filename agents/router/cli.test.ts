import { describe, expect, it } from 'vitest';
import { UserFacingError } from '../../common/errors';
import { parseRouterArgs } from './cli';
import { RouterOptions } from './router-options';

describe('router CLI flags', () => {
  it('maps the planner flags to router options', () => {
    const o = parseRouterArgs([
      '--port', '8181', '--mode', 'disaggregated',
      '--prefill', 'http://10.0.0.1:8100', '--prefill', '10.0.0.2:8100/',
      '--decode', 'http://10.0.0.1:8200',
      '--remote-prefill-min-tokens', '256', '--prefill-queue-limit', '8',
      '--trace-file', '/tmp/t.jsonl', '--model', 'llama',
    ]);
    expect(RouterOptions.parse(o)).toMatchObject({
      host: '127.0.0.1',
      port: 8181,
      mode: 'disaggregated',
      prefill: ['http://10.0.0.1:8100', 'http://10.0.0.2:8100'],
      decode: ['http://10.0.0.1:8200'],
      remotePrefillMinTokens: 256,
      prefillQueueLimit: 8,
      traceFile: '/tmp/t.jsonl',
      model: 'llama',
    });
  });

  it('rejects an unknown mode and non-numeric limits with a clear message', () => {
    expect(() => parseRouterArgs(['--port', '1', '--mode', 'both'])).toThrow(new UserFacingError('invalid-router-options', '--mode must be aggregated or disaggregated, got "both".'));
    expect(() => parseRouterArgs(['--port', '1', '--mode', 'aggregated', '--prefill-queue-limit', '-3'])).toThrow('--prefill-queue-limit expects a non-negative integer, got "-3".');
  });

  it('requires the workers each mode needs', () => {
    const r = RouterOptions.safeParse(parseRouterArgs(['--port', '1', '--mode', 'disaggregated', '--worker', 'http://a:1']));
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.message)).toEqual([
      'disaggregated mode needs at least one --prefill URL',
      'disaggregated mode needs at least one --decode URL',
      'disaggregated mode takes --prefill/--decode, not --worker',
    ]);
  });
});
