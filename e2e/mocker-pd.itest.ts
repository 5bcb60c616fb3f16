import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMocker, type RunningMocker } from '../agents/mocker/mocker';
import { eventually, freePort, metricValue, postJson, spawnGroup, spawnMocker, sseData, toyProxyPath, venvPython, waitForHttp, type ChildHandle } from './mocker-harness';

const MODEL = 'deepseek-ai/DeepSeek-R1-Distill-Llama-8B';
const quiet = (): void => undefined;
const kvConfig = (role: string, policy = 'fail', extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ kv_connector: 'NixlConnector', kv_role: role, kv_load_failure_policy: policy, kv_connector_extra_config: extra });

/** The P-leg rewrite of reference/vllm-disagg.md §2.2. */
function prefillLeg(body: Record<string, unknown>): Record<string, unknown> {
  const p: Record<string, unknown> = {
    ...body,
    kv_transfer_params: { do_remote_decode: true, do_remote_prefill: false, remote_engine_id: null, remote_block_ids: null, remote_host: null, remote_port: null },
    stream: false,
    max_tokens: 1,
  };
  delete p['stream_options'];
  delete p['min_tokens'];
  return p;
}

const PROMPT = 'Summarise the history of rivers and gardens in a few careful words. '.repeat(8);

describe('P/D handoff across two mocker processes', () => {
  const children: ChildHandle[] = [];
  let pUrl = '';
  let dUrl = '';
  beforeAll(async () => {
    const [pPort, dPort, pSide, dSide] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const common = [MODEL, '--max-model-len', '4096', '--mocker-time-scale', '0', '--block-size', '16'];
    children.push(spawnMocker([...common, '--port', String(pPort), '--kv-transfer-config', kvConfig('kv_producer')], { VLLM_NIXL_SIDE_CHANNEL_HOST: '127.0.0.1', VLLM_NIXL_SIDE_CHANNEL_PORT: String(pSide) }));
    children.push(spawnMocker([...common, '--port', String(dPort), '--kv-transfer-config', kvConfig('kv_consumer')], { VLLM_NIXL_SIDE_CHANNEL_HOST: '127.0.0.1', VLLM_NIXL_SIDE_CHANNEL_PORT: String(dSide) }));
    pUrl = `http://127.0.0.1:${pPort}`;
    dUrl = `http://127.0.0.1:${dPort}`;
    await Promise.all([waitForHttp(`${pUrl}/health`, children[0]), waitForHttp(`${dUrl}/health`, children[1])]);
  }, 90_000);
  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop()));
  });

  it('prefills on P, reads the blocks on D over the side channel, and frees them on P', async () => {
    const original = { model: MODEL, prompt: PROMPT, max_tokens: 5, stream: true, stream_options: { include_usage: true }, min_tokens: 2 };
    const p = await postJson(`${pUrl}/v1/completions`, prefillLeg(original), { 'X-Request-Id': 'pd-1', Authorization: 'Bearer None' });
    expect(p.status).toBe(200);
    const kv = (p.json as { kv_transfer_params: Record<string, unknown> }).kv_transfer_params;
    expect(Object.keys(kv)).toEqual(
      expect.arrayContaining(['do_remote_prefill', 'do_remote_decode', 'remote_engine_id', 'remote_block_ids', 'remote_request_id', 'remote_host', 'remote_port', 'tp_size']),
    );
    expect(kv).toMatchObject({ do_remote_prefill: true, do_remote_decode: false, remote_host: '127.0.0.1', tp_size: 1 });
    expect(String(kv['remote_request_id'])).toMatch(/^cmpl-pd-1-0-/);
    const blocks = (kv['remote_block_ids'] as number[][])[0]!;
    expect(blocks.length).toBeGreaterThan(0);
    expect(await metricValue(pUrl, 'vllm:kv_cache_usage_perc')).toBeGreaterThan(0);

    const d = await postJson(`${dUrl}/v1/completions`, { ...original, kv_transfer_params: kv, min_tokens: null }, { 'X-Request-Id': 'pd-1', Authorization: 'Bearer None' });
    expect(d.status).toBe(200);
    const events = sseData(d.text);
    expect(events[events.length - 1]).toBe('[DONE]');
    const usage = JSON.parse(events[events.length - 2]!) as { usage: { completion_tokens: number; prompt_tokens: number } };
    expect(usage.usage.completion_tokens).toBe(5);

    const external = await metricValue(dUrl, 'vllm:prompt_tokens_by_source_total', { source: 'external_kv_transfer' });
    // vLLM 0.32 counts every prompt token D did not hold locally as external (it reports no recompute).
    expect(external).toBe(usage.usage.prompt_tokens);
    expect(await metricValue(dUrl, 'vllm:prompt_tokens_by_source_total', { source: 'local_compute' })).toBe(0);
    expect(await metricValue(dUrl, 'vllm:nixl_xfer_time_seconds_count')).toBe(1);
    expect(await metricValue(dUrl, 'vllm:nixl_bytes_transferred_sum')).toBe(blocks.length * 2 * 1024 * 1024);
    await eventually(async () => (await metricValue(pUrl, 'vllm:kv_cache_usage_perc')) === 0, 'P frees the blocks after the notification');
    expect(await metricValue(pUrl, 'vllm:nixl_num_kv_expired_reqs_total')).toBe(0);
  });

  it('does a silent local prefill on D when the params are missing', async () => {
    const before = await metricValue(dUrl, 'vllm:prompt_tokens_by_source_total', { source: 'local_compute' });
    const d = await postJson(`${dUrl}/v1/completions`, { model: MODEL, prompt: 'no params here', max_tokens: 2 });
    expect(d.status).toBe(200);
    expect(await metricValue(dUrl, 'vllm:prompt_tokens_by_source_total', { source: 'local_compute' })).toBeGreaterThan(before);
  });
});

describe('P/D failures and leases (in-process pairs)', () => {
  const started: RunningMocker[] = [];
  const start = async (args: string[], env: Record<string, string>): Promise<RunningMocker> => {
    const m = await startMocker({ argv: [MODEL, '--port', '0', '--max-model-len', '4096', '--mocker-time-scale', '0', ...args], env: { VLLM_NIXL_SIDE_CHANNEL_HOST: '127.0.0.1', VLLM_NIXL_SIDE_CHANNEL_PORT: '0', ...env }, logLine: quiet });
    started.push(m);
    return m;
  };
  afterAll(async () => {
    await Promise.all(started.map((m) => m.close()));
  });

  const prefill = async (p: RunningMocker): Promise<Record<string, unknown>> => {
    const r = await postJson(`${p.url}/v1/completions`, prefillLeg({ prompt: PROMPT, max_tokens: 4 }));
    return (r.json as { kv_transfer_params: Record<string, unknown> }).kv_transfer_params;
  };

  it('fails the request with HTTP 500 when the side-channel port is wrong and the policy is "fail"', async () => {
    const p = await start(['--kv-transfer-config', kvConfig('kv_producer')], {});
    const d = await start(['--kv-transfer-config', kvConfig('kv_consumer', 'fail')], {});
    const kv = await prefill(p);
    const wrong = { ...kv, remote_port: await freePort() };
    const r = await postJson(`${d.url}/v1/completions`, { prompt: PROMPT, max_tokens: 4, kv_transfer_params: wrong });
    expect(r.status).toBe(500);
    expect(r.json).toEqual({ error: { message: 'Internal server error', type: 'InternalServerError', param: null, code: 500 } });
    expect(await metricValue(d.url, 'vllm:nixl_num_failed_transfers_total')).toBe(1);
    const s = await postJson(`${d.url}/v1/chat/completions`, { messages: [{ role: 'user', content: PROMPT }], max_tokens: 4, stream: true, kv_transfer_params: wrong });
    const events = sseData(s.text);
    expect(JSON.parse(events[events.length - 2]!)).toEqual({ error: { message: 'Internal server error', type: 'InternalServerError', param: null, code: 500 } });
    expect(events[events.length - 1]).toBe('[DONE]');
  });

  it('logs the periodic "KV Transfer metrics" line after transfers', async () => {
    const lines: string[] = [];
    const p = await start(['--kv-transfer-config', kvConfig('kv_producer')], {});
    const d = await startMocker({
      argv: [MODEL, '--port', '0', '--max-model-len', '4096', '--mocker-time-scale', '0', '--kv-transfer-config', kvConfig('kv_consumer')],
      env: { VLLM_NIXL_SIDE_CHANNEL_HOST: '127.0.0.1', VLLM_NIXL_SIDE_CHANNEL_PORT: '0', VLLM_LOG_STATS_INTERVAL: '0.2' },
      logLine: (l) => lines.push(l),
    });
    started.push(d);
    const kv = await prefill(p);
    expect((await postJson(`${d.url}/v1/completions`, { prompt: PROMPT, max_tokens: 2, kv_transfer_params: kv })).status).toBe(200);
    await eventually(async () => lines.some((l) => l.includes('KV Transfer metrics: Num successful transfers=1')), 'the KV Transfer metrics log line');
    const line = lines.find((l) => l.includes('KV Transfer metrics'))!;
    expect(line).toMatch(/^INFO \d\d-\d\d .*Avg xfer time \(ms\)=[\d.]+, P90 xfer time \(ms\)=[\d.]+, Avg post time \(ms\)=[\d.]+, P90 post time \(ms\)=[\d.]+, Avg MB per transfer=[\d.]+, Throughput \(MB\/s\)=[\d.]+, Avg number of descriptors=[\d.]+, Num failed transfers=0/);
  });

  it('recomputes locally when the side-channel port is wrong and the policy is "recompute"', async () => {
    const p = await start(['--kv-transfer-config', kvConfig('kv_producer')], {});
    const d = await start(['--kv-transfer-config', kvConfig('kv_consumer', 'recompute')], {});
    const kv = await prefill(p);
    const r = await postJson(`${d.url}/v1/completions`, { prompt: PROMPT, max_tokens: 4, kv_transfer_params: { ...kv, remote_port: await freePort() } });
    expect(r.status).toBe(200);
    expect((r.json as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(4);
    expect(await metricValue(d.url, 'vllm:nixl_num_failed_transfers_total')).toBe(1);
    expect(await metricValue(d.url, 'vllm:prompt_tokens_by_source_total', { source: 'external_kv_transfer' })).toBe(0);
  });

  it('rejects a side channel that belongs to another engine (engine-id mismatch)', async () => {
    const p = await start(['--kv-transfer-config', kvConfig('kv_producer')], {});
    const other = await start(['--kv-transfer-config', kvConfig('kv_producer')], {});
    const d = await start(['--kv-transfer-config', kvConfig('kv_consumer', 'fail')], {});
    const kv = await prefill(p);
    const r = await postJson(`${d.url}/v1/completions`, { prompt: PROMPT, max_tokens: 4, kv_transfer_params: { ...kv, remote_port: other.sideChannelPort } });
    expect(r.status).toBe(500);
  });

  it('frees pinned blocks when the lease expires and counts the expiry', async () => {
    const p = await start(['--kv-transfer-config', kvConfig('kv_producer', 'fail', { kv_lease_duration: 0.3 })], {});
    await prefill(p);
    expect(p.pinnedRequests()).toBe(1);
    expect(await metricValue(p.url, 'vllm:kv_cache_usage_perc')).toBeGreaterThan(0);
    await eventually(async () => (await metricValue(p.url, 'vllm:nixl_num_kv_expired_reqs_total')) === 1, 'lease expiry');
    expect(p.pinnedRequests()).toBe(0);
    expect(await metricValue(p.url, 'vllm:kv_cache_usage_perc')).toBe(0);
  });

  it('uses VLLM_NIXL_ABORT_REQUEST_TIMEOUT as the lease when kv_lease_duration is not set (older vLLM)', async () => {
    const p = await start(['--kv-transfer-config', kvConfig('kv_producer')], { VLLM_NIXL_ABORT_REQUEST_TIMEOUT: '0.3' });
    await prefill(p);
    await eventually(async () => (await metricValue(p.url, 'vllm:nixl_num_kv_expired_reqs_total')) === 1, 'abort timeout');
    expect(await metricValue(p.url, 'vllm:kv_cache_usage_perc')).toBe(0);
  });

  it('refuses a malformed --kv-transfer-config with a clear message', async () => {
    await expect(startMocker({ argv: [MODEL, '--port', '0', '--kv-transfer-config', '{"kv_connector":"NixlConnector"'], logLine: quiet })).rejects.toThrow(/--kv-transfer-config must be a JSON object/);
    await expect(startMocker({ argv: [MODEL, '--port', '0', '--kv-transfer-config', '{"kv_connector":"NixlConnector"}'], logLine: quiet })).rejects.toThrow(/kv_role must be set/);
  });
});

describe("vLLM's toy proxy in front of a mocker P/D pair", () => {
  const tools = venvPython('.venv-tools');
  const proxy = toyProxyPath();
  const skip = 'missing' in tools ? tools.missing : proxy === null ? 'toy_proxy_server.py not fetched into .cache/ (run e2e/python/setup-envs.sh)' : null;
  if (skip) console.log(`skipping toy-proxy test: ${skip}`);

  it.skipIf(skip !== null)('serves streaming and non-streaming completions and chat through the unmodified proxy', async () => {
    const children: ChildHandle[] = [];
    try {
      const [pPort, dPort, proxyPort, pSide, dSide] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
      const common = [MODEL, '--max-model-len', '4096', '--mocker-time-scale', '0'];
      children.push(spawnMocker([...common, '--port', String(pPort), '--kv-transfer-config', kvConfig('kv_producer')], { VLLM_NIXL_SIDE_CHANNEL_PORT: String(pSide) }));
      children.push(spawnMocker([...common, '--port', String(dPort), '--kv-transfer-config', kvConfig('kv_consumer')], { VLLM_NIXL_SIDE_CHANNEL_PORT: String(dSide) }));
      const py = (tools as { python: string }).python;
      // Unset so the proxy sends "Authorization: Bearer None", as it does in vLLM's own CI.
      const env = { ...process.env };
      delete env['OPENAI_API_KEY'];
      children.push(spawnGroup([py, proxy!, '--port', String(proxyPort), '--prefiller-hosts', 'localhost', '--prefiller-ports', String(pPort), '--decoder-hosts', 'localhost', '--decoder-ports', String(dPort)], env));
      const proxyUrl = `http://127.0.0.1:${proxyPort}`;
      await Promise.all([waitForHttp(`http://127.0.0.1:${pPort}/health`, children[0]), waitForHttp(`http://127.0.0.1:${dPort}/health`, children[1]), waitForHttp(`${proxyUrl}/healthcheck`, children[2])]);

      const comp = await postJson(`${proxyUrl}/v1/completions`, { model: MODEL, prompt: PROMPT, max_tokens: 6, min_tokens: 3 });
      if (comp.status !== 200) console.log(children.map((c) => c.output()).join('\n----\n'));
      expect(comp.status).toBe(200);
      expect((comp.json as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(6);
      const chat = await postJson(`${proxyUrl}/v1/chat/completions`, { model: MODEL, messages: [{ role: 'user', content: PROMPT }], max_tokens: 4, stream: true, stream_options: { include_usage: true } });
      const events = sseData(chat.text);
      expect(events[events.length - 1]).toBe('[DONE]');
      expect(events.length).toBe(1 + 4 + 1 + 1);
      const dUrl = `http://127.0.0.1:${dPort}`;
      expect(await metricValue(dUrl, 'vllm:prompt_tokens_by_source_total', { source: 'external_kv_transfer' })).toBeGreaterThan(0);
      await eventually(async () => (await metricValue(`http://127.0.0.1:${pPort}`, 'vllm:kv_cache_usage_perc')) === 0, 'P frees both requests');
    } finally {
      await Promise.all(children.map((c) => c.stop()));
    }
  }, 120_000);
});
