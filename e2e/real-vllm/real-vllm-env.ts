/**
 * What the real-vLLM tests need from this machine: the .venv-vllm environment (vLLM's CPU build +
 * NIXL, built by e2e/python/setup-envs.sh), the tiny model (e2e/real-vllm/make-tiny-model.py),
 * vLLM's toy proxy and the .venv-tools Python that runs it. Each getter says why a piece is missing
 * so a test file can skip with a printed reason.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { formatCpuList } from '../../common/cpu-list';
import { allowedCpus } from '../../agents/bench/client-affinity';
import type { KvBlockShape } from '../../common/metrics/kv-transfer';
import { REPO_ROOT, toyProxyPath } from '../mocker-harness';

export const VLLM_VENV = path.join(REPO_ROOT, '.venv-vllm');
export const VLLM_PYTHON = path.join(VLLM_VENV, 'bin', 'python');
export const TOOLS_VENV = path.join(REPO_ROOT, '.venv-tools');
export const TOOLS_PYTHON = path.join(TOOLS_VENV, 'bin', 'python');
export const TINY_MODEL = path.join(REPO_ROOT, '.cache', 'tiny-llama');
export const SERVED_MODEL = 'tiny-llama';

/** Environment every real vLLM process gets here: small KV cache, no thread pinning on a shared 2-core box, nothing phoned home. */
export const CPU_ENV: Record<string, string> = {
  VLLM_CPU_KVCACHE_SPACE: '1',
  VLLM_CPU_OMP_THREADS_BIND: 'nobind',
  VLLM_NO_USAGE_STATS: '1',
  DO_NOT_TRACK: '1',
  HF_HUB_OFFLINE: '1',
};

/** Why .venv-vllm (vLLM's CPU build) is not usable here, or null. */
export function vllmVenvSkipReason(): string | null {
  if (!fs.existsSync(VLLM_PYTHON) || !fs.existsSync(path.join(VLLM_VENV, '.handoff-stamp'))) {
    return '.venv-vllm is not built (run e2e/python/setup-envs.sh; .ci/run does when PyPI is reachable)';
  }
  return null;
}

/** Why the real vLLM cannot serve the tiny model here, or null. */
export function realVllmSkipReason(): string | null {
  const venv = vllmVenvSkipReason();
  if (venv) return venv;
  if (!fs.existsSync(path.join(TINY_MODEL, '.handoff-stamp'))) {
    return `the tiny model is not built (${VLLM_PYTHON} e2e/real-vllm/make-tiny-model.py; setup-envs.sh does it)`;
  }
  return null;
}

/** Why vLLM's toy proxy cannot run here, or null. */
export function toyProxySkipReason(): string | null {
  if (!fs.existsSync(TOOLS_PYTHON)) return '.venv-tools is not built (run e2e/python/setup-envs.sh)';
  if (!toyProxyPath()) return "vLLM's toy_proxy_server.py was not fetched into .cache (run e2e/python/setup-envs.sh)";
  return null;
}

const HfConfig = z.object({
  num_hidden_layers: z.int().positive(),
  num_attention_heads: z.int().positive(),
  num_key_value_heads: z.int().positive(),
  hidden_size: z.int().positive(),
  head_dim: z.int().positive().optional(),
  dtype: z.string().optional(),
  torch_dtype: z.string().optional(),
});

const DTYPE_BYTES: Record<string, number> = { bfloat16: 2, float16: 2, float32: 4 };

/** The KV block shape of the tiny model, from its config.json, for a given block size and TP. */
export function tinyModelKvShape(blockSize: number, tp = 1): KvBlockShape {
  const c = HfConfig.parse(JSON.parse(fs.readFileSync(path.join(TINY_MODEL, 'config.json'), 'utf8')));
  const dtype = c.dtype ?? c.torch_dtype ?? 'bfloat16';
  const dtypeBytes = DTYPE_BYTES[dtype];
  if (dtypeBytes === undefined) throw new Error(`unexpected dtype ${dtype} in the tiny model's config.json`);
  return {
    layers: c.num_hidden_layers,
    blockSize,
    kvHeads: c.num_key_value_heads,
    headDim: c.head_dim ?? c.hidden_size / c.num_attention_heads,
    dtypeBytes,
    tp,
  };
}

function pyvenvCfg(venv: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(path.join(venv, 'pyvenv.cfg'), 'utf8').split('\n')) {
    const m = /^\s*([\w-]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

function sitePackages(venv: string): string {
  const lib = path.join(venv, 'lib');
  const py = fs.readdirSync(lib).find((d) => /^python3\.\d+$/.test(d));
  if (!py) throw new Error(`no lib/python3.X in ${venv}`);
  return path.join(lib, py, 'site-packages');
}

interface Owner {
  uid: number;
  gid: number;
  user: string;
}

/**
 * Another user (the loopback sshd test user) cannot run .venv-vllm or .venv-tools directly: their
 * interpreter is a symlink into root's private home (pyenv). This builds, in `dir`, a virtual
 * environment that user can run: a system CPython of the same minor version (same ABI), the source
 * environment's packages through a .pth file, and the given console scripts (name → module whose
 * `main`-like callable to call). Host discovery then finds it like any ~/.venv*.
 * Returns the interpreter path, or throws saying why no suitable interpreter exists.
 */
function makeSharedEnv(source: string, dir: string, owner: Owner, scripts: Record<string, { module: string; callable: string }>): string {
  const cfg = pyvenvCfg(source);
  const minor = /^(\d+\.\d+)/.exec(cfg['version'] ?? cfg['version_info'] ?? '')?.[1];
  if (!minor) throw new Error(`cannot read the Python version from ${source}/pyvenv.cfg`);
  const candidates = [cfg['executable'], `/usr/bin/python${minor}`, `/usr/local/bin/python${minor}`].filter((p): p is string => !!p);
  const base = candidates.find((p) => {
    const r = spawnSync('runuser', ['-u', owner.user, '--', p, '-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' });
    return r.status === 0 && r.stdout.trim() === minor;
  });
  if (!base) throw new Error(`no Python ${minor} that user ${owner.user} may run (tried ${candidates.join(', ')}); install python${minor} system-wide`);

  const bin = path.join(dir, 'bin');
  const site = path.join(dir, 'lib', `python${minor}`, 'site-packages');
  fs.mkdirSync(bin, { recursive: true });
  fs.mkdirSync(site, { recursive: true });
  fs.writeFileSync(path.join(dir, 'pyvenv.cfg'), `home = ${path.dirname(base)}\ninclude-system-site-packages = false\nversion = ${minor}\n`);
  fs.symlinkSync(base, path.join(bin, 'python'));
  fs.symlinkSync('python', path.join(bin, 'python3'));
  const pth = path.join(site, 'handoff-shared-env.pth');
  fs.writeFileSync(pth, sitePackages(source) + '\n');
  const python = path.join(bin, 'python');
  const owned = [dir, bin, path.join(dir, 'lib'), path.dirname(site), site, path.join(dir, 'pyvenv.cfg'), pth];
  for (const [name, s] of Object.entries(scripts)) {
    // The `if __name__` guard matters: vLLM's engine processes and AIPerf's services start with
    // multiprocessing's spawn, which re-imports the main module.
    fs.writeFileSync(path.join(bin, name), `#!${python}\nimport sys\nfrom ${s.module} import ${s.callable}\nif __name__ == "__main__":\n    sys.exit(${s.callable}())\n`, { mode: 0o755 });
    owned.push(path.join(bin, name));
  }
  for (const p of owned) fs.chownSync(p, owner.uid, owner.gid);
  for (const l of ['python', 'python3']) fs.lchownSync(path.join(bin, l), owner.uid, owner.gid);
  return python;
}

/** A shared copy of .venv-vllm with a `vllm` console script (see makeSharedEnv). */
export function makeSharedVllmEnv(dir: string, owner: Owner): string {
  return makeSharedEnv(VLLM_VENV, dir, owner, { vllm: { module: 'vllm.entrypoints.cli.main', callable: 'main' } });
}

/** Why AIPerf (in .venv-tools) cannot run here, or null. */
export function aiperfSkipReason(): string | null {
  if (!fs.existsSync(TOOLS_PYTHON)) return '.venv-tools is not built (run e2e/python/setup-envs.sh)';
  if (!fs.existsSync(path.join(TOOLS_VENV, 'bin', 'aiperf'))) return 'AIPerf is not installed in .venv-tools (run e2e/python/setup-envs.sh)';
  return null;
}

/** A shared copy of .venv-tools with an `aiperf` console script, where the agent's tool finder looks (~/.venv*). */
export function makeSharedToolsEnv(dir: string, owner: Owner): string {
  return makeSharedEnv(TOOLS_VENV, dir, owner, { aiperf: { module: 'aiperf.cli', callable: 'app' } });
}

/**
 * The split the measurements use on a machine with two or more CPUs: the benchmark client on the
 * first CPU this process may use, the engines and the router on the others. vLLM's CPU build stalls
 * every OpenMP thread when one is descheduled, so a client sharing its cores (AIPerf's ~10 Python
 * processes above all) slows the server it measures by a different amount for each tool. Null on a
 * single CPU.
 */
export function serverClientCpus(): { server: string; client: string } | null {
  const cpus = allowedCpus();
  if (cpus.length < 2) return null;
  return { client: String(cpus[0]), server: formatCpuList(cpus.slice(1)) };
}
