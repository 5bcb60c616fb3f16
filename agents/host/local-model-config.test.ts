import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { localModelConfigFile, readLocalModelConfig } from './local-model-config';

const CONFIG = { num_hidden_layers: 4, num_attention_heads: 8, num_key_value_heads: 2, hidden_size: 256, intermediate_size: 512, vocab_size: 1000, max_position_embeddings: 2048, torch_dtype: 'bfloat16' };
const dirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-model-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('local model config', () => {
  it('reads the config.json of a model directory', () => {
    const d = tmp();
    fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify(CONFIG));
    const m = readLocalModelConfig(d, {});
    expect(m).toMatchObject({ layers: 4, kvHeads: 2, headDim: 32 });
  });

  it('finds a hub id in the Hugging Face cache, preferring the revision refs/main names', () => {
    const hub = tmp();
    const repo = path.join(hub, 'models--org--tiny');
    for (const rev of ['aaa', 'bbb']) fs.mkdirSync(path.join(repo, 'snapshots', rev), { recursive: true });
    fs.writeFileSync(path.join(repo, 'snapshots', 'aaa', 'config.json'), JSON.stringify({ ...CONFIG, num_hidden_layers: 2 }));
    fs.writeFileSync(path.join(repo, 'snapshots', 'bbb', 'config.json'), JSON.stringify(CONFIG));
    fs.mkdirSync(path.join(repo, 'refs'));
    fs.writeFileSync(path.join(repo, 'refs', 'main'), 'bbb\n');
    expect(localModelConfigFile('org/tiny', { HF_HUB_CACHE: hub })).toBe(path.join(repo, 'snapshots', 'bbb', 'config.json'));
    expect(readLocalModelConfig('org/tiny', { HF_HUB_CACHE: hub })?.layers).toBe(4);
  });

  it('says null for a model that is nowhere on this host', () => {
    expect(readLocalModelConfig('org/absent', { HF_HUB_CACHE: tmp(), HOME: tmp() })).toBeNull();
  });
});
