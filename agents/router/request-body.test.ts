import { describe, expect, it } from 'vitest';
import { countKvBlocks, decodeLegBody, prefillLegBody } from './request-body';

describe('P/D request rewriting (reference/vllm-disagg.md §2)', () => {
  it('leaves the client body untouched when building the prefill leg', () => {
    const body = { prompt: 'x', stream: true, stream_options: { include_usage: true }, max_tokens: 50, min_tokens: 3 };
    const copy = structuredClone(body);
    const p = prefillLegBody(body);
    expect(body).toEqual(copy);
    expect(p).toEqual({ prompt: 'x', stream: false, max_tokens: 1, kv_transfer_params: { do_remote_decode: true, do_remote_prefill: false, remote_engine_id: null, remote_block_ids: null, remote_host: null, remote_port: null } });
    expect(p).not.toHaveProperty('max_completion_tokens');
  });

  it('replaces any client kv_transfer_params on both legs', () => {
    const body = { prompt: 'x', kv_transfer_params: { bogus: true } };
    expect(prefillLegBody(body).kv_transfer_params).toMatchObject({ do_remote_decode: true });
    expect(decodeLegBody(body, { do_remote_prefill: true }).kv_transfer_params).toEqual({ do_remote_prefill: true });
  });

  it('counts block ids in flat lists and per-group lists', () => {
    expect(countKvBlocks({ remote_block_ids: [1, 2, 3] })).toBe(3);
    expect(countKvBlocks({ remote_block_ids: [[1, 2], [3]] })).toBe(3);
    expect(countKvBlocks({ remote_block_ids: [] })).toBe(0);
    expect(countKvBlocks({ remote_block_ids: null })).toBeNull();
  });
});
