/**
 * Our genai-perf-layout profile_export.json read by GenAI-Perf's own parser
 * (genai_perf.profile_data_parser.LLMProfileDataParser, the code behind `genai-perf profile`'s
 * statistics). GenAI-Perf is not installed by e2e/python/setup-envs.sh (about 950 MB with its
 * dependencies; docs/benchmarks.md, "genai-perf"), so this runs where a Python with genai_perf is
 * found: $HANDOFF_GENAI_PERF_PYTHON, or .venv-genai-perf/bin/python; and it needs a local tokenizer
 * (.cache/tiny-llama from setup-envs.sh), since nothing here may reach a model hub.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveWorkload } from '../../common/bench-rpc';
import { computeRunMetrics } from '../../common/metrics';
import type { RequestRecord } from '../../common/run-record';
import { paRequestJson, writeProfileExport } from './genai-perf-export';

const python = [process.env.HANDOFF_GENAI_PERF_PYTHON, path.resolve('.venv-genai-perf/bin/python')].find((p): p is string => !!p && fs.existsSync(p));
const tokenizerDir = path.resolve('.cache/tiny-llama');
const hasGenaiPerf = python !== undefined && spawnSync(python, ['-c', 'import genai_perf.profile_data_parser'], { stdio: 'ignore' }).status === 0;
const ready = hasGenaiPerf && fs.existsSync(path.join(tokenizerDir, 'tokenizer.json'));
if (!ready) {
  const why = !python ? 'no Python with genai_perf ($HANDOFF_GENAI_PERF_PYTHON or .venv-genai-perf)' : !hasGenaiPerf ? `${python} cannot import genai_perf` : `no local tokenizer at ${tokenizerDir} (run e2e/python/setup-envs.sh)`;
  process.stderr.write(`genai-perf-readback.test.ts skipped: ${why}\n`);
}

const READER = `
import json, sys
from pathlib import Path
from genai_perf.tokenizer import Tokenizer
from genai_perf.profile_data_parser import LLMProfileDataParser
tok = Tokenizer()
tok.set_tokenizer(sys.argv[2], False, "main")
parser = LLMProfileDataParser(filename=Path(sys.argv[1]), tokenizer=tok)
out = {}
for mode, level in parser.get_profile_load_info():
    s = parser.get_statistics(mode, level)
    out[f"{mode}={level}"] = {k: v for k, v in s.stats_dict.items() if isinstance(v, dict)}
print(json.dumps(out))
`;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gp-readback-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!ready)('GenAI-Perf reading our profile_export.json', () => {
  it('gives the same request latency, TTFT and request count as our metrics for a streamed chat run', () => {
    const w = resolveWorkload({ model: 'tiny', endpointType: 'chat', streaming: true, concurrency: 2, requestCount: 3 });
    const t0 = 1_764_000_000_000_000_000n;
    const words = ['Hello', ' there', ' from', ' the', ' mocker'];
    const lines: string[] = [];
    const records: RequestRecord[] = [];
    for (let r = 0; r < 3; r++) {
      const send = t0 + BigInt(r) * 50_000_000n;
      // GenAI-Perf reads delta.content only when `object` says chat.completion.chunk (vLLM sends it).
      const events = [{ epochNs: send + 1_000_000n, text: 'data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n' }];
      const chunkNs: number[] = [];
      words.forEach((word, i) => {
        const at = send + BigInt(20_000_000 + r * 3_000_000 + i * 7_000_000);
        events.push({ epochNs: at, text: `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: word } }] })}\n\n` });
        chunkNs.push(Number(at - t0));
      });
      events.push({ epochNs: send + 60_000_000n, text: 'data: [DONE]\n\n' });
      const payload = JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'count these words please' }], stream: true });
      lines.push(paRequestJson(send, payload, events));
      records.push({ sendNs: Number(send - t0), chunkNs, firstTokenNs: chunkNs[0]!, lastTokenNs: chunkNs[chunkNs.length - 1]!, inputTokens: 4, outputTokens: { usage: 5, chunks: 5 }, error: null });
    }
    const linesFile = path.join(tmp, 'requests.pa.jsonl');
    fs.writeFileSync(linesFile, lines.join('\n') + '\n');
    const file = path.join(tmp, 'profile_export.json');
    writeProfileExport(file, linesFile, w, [t0, t0 + 1_000_000_000n]);

    const res = spawnSync(python!, ['-c', READER, file, tokenizerDir], { encoding: 'utf8', env: { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1' } });
    expect(res.status, res.stderr).toBe(0);
    const stats = JSON.parse(res.stdout.trim().split('\n').pop()!) as Record<string, Record<string, Record<string, number>>>;
    const gp = stats['concurrency=2']!;
    const ours = computeRunMetrics(records, { streaming: true });
    // The parser keeps nanoseconds; genai-perf scales to ms only when it exports (unit says ms already).
    const ms = (v: number | undefined) => (v ?? Number.NaN) / 1e6;
    expect(ms(gp.request_latency!.avg)).toBeCloseTo(ours.distributions.requestLatencyMs!.avg, 6);
    expect(ms(gp.request_latency!.p50)).toBeCloseTo(ours.distributions.requestLatencyMs!.p50, 6);
    expect(ms(gp.time_to_first_token!.avg)).toBeCloseTo(ours.distributions.ttftMs!.avg, 6);
    expect(ms(gp.time_to_first_token!.max)).toBeCloseTo(ours.distributions.ttftMs!.max, 6);
    expect(gp.request_count!.avg).toBe(3);
    expect(gp.request_throughput!.avg).toBeCloseTo(ours.scalars.requestThroughputPerS!, 6);
    // ISL and OSL are GenAI-Perf's own tokenizer counts (tiny-llama here), present for every request.
    expect(gp.input_sequence_length!.avg).toBeGreaterThan(0);
    expect(gp.output_sequence_length!.avg).toBeGreaterThan(0);
  }, 120_000);
});
