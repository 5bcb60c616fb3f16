import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { modelConfigFromHf, type ModelConfig } from '../../common/model-config';

/**
 * Finds the config.json vLLM itself would read for `model` on this host: the model directory when
 * it is a path, else the Hugging Face cache snapshot (refs/main first). Null when there is none, so
 * a model outside the built-in table still gets its real KV shape wherever it is served from.
 */
export function localModelConfigFile(model: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const direct = model.endsWith('config.json') ? model : path.join(model, 'config.json');
  if (isFile(direct)) return direct;
  if (!/^[\w.-]+\/[\w.-]+$/.test(model)) return null;
  const hubs = [env.HF_HUB_CACHE, env.HF_HOME ? path.join(env.HF_HOME, 'hub') : undefined, path.join(env.HOME ?? os.homedir(), '.cache', 'huggingface', 'hub')];
  for (const hub of hubs) {
    if (!hub) continue;
    const repo = path.join(hub, `models--${model.replace('/', '--')}`);
    const snapshots = path.join(repo, 'snapshots');
    let revs: string[] = [];
    try {
      const main = fs.readFileSync(path.join(repo, 'refs', 'main'), 'utf8').trim();
      revs = [main, ...fs.readdirSync(snapshots).filter((r) => r !== main)];
    } catch {
      try {
        revs = fs.readdirSync(snapshots);
      } catch {
        continue;
      }
    }
    for (const rev of revs) {
      const f = path.join(snapshots, rev, 'config.json');
      if (isFile(f)) return f;
    }
  }
  return null;
}

/** The model's shape from its local config.json; null when none is found. Throws on a file that is not a model config. */
export function readLocalModelConfig(model: string, env: NodeJS.ProcessEnv = process.env): ModelConfig | null {
  const file = localModelConfigFile(model, env);
  if (!file) return null;
  return modelConfigFromHf(model, JSON.parse(fs.readFileSync(file, 'utf8')) as unknown);
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}
