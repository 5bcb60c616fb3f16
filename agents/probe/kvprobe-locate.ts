import fs from 'node:fs/promises';
import path from 'node:path';
import { UserFacingError } from '../../common/errors';
import type { KvprobeImplementationChoice, KvprobeProvenance } from '../../common/kv/fabric-probe';
import type { PythonEnv } from '../../common/host';
import { GPU_QUERY_ARGS, parseGpuQueryCsv } from '../host/nvidia-smi-parse';
import { candidatePythons, probePythons, which } from '../host/python-envs';
import { failureDetail, type RunTool } from '../host/run-tool';
import { kvprobeSources, type KvprobeSources } from './kvprobe-sources';

/**
 * Picks the kvprobe a host can run, in the order of issue 9 §1 "Build": the prebuilt binary shipped
 * beside the agent bundle when it runs with the host's driver; else one built with the host's nvcc
 * into <agent home>/kvprobe/<sourceHash>/ (kept: the next probe reuses it); else the PyTorch
 * fallback with the host's own torch (a vLLM environment has it). Each passed-over choice leaves a
 * note saying why, shown to the user with the result or in the error.
 */

export interface LocateDeps {
  env: NodeJS.ProcessEnv;
  /** Agent home (~/.handoff): builds go under kvprobe/<sourceHash>/. */
  agentHome: string;
  /** The user's home, where Python environments are looked for. */
  userHome: string;
  /** Directory that may hold a prebuilt `kvprobe` (beside the agent bundle). */
  prebuiltDir: string;
  run: RunTool;
  progress(message: string): void;
  sources?: KvprobeSources;
  /** Cancels a build in progress (nvcc runs for minutes). */
  signal?: AbortSignal;
}

export interface LocatedKvprobe {
  provenance: KvprobeProvenance;
  /** argv before the probe's own arguments: [binary] or [python, kvprobe_torch.py]. */
  argv: string[];
}

const CHECK_TIMEOUT_MS = 60_000;
const BUILD_TIMEOUT_MS = 10 * 60_000;

async function isFile(p: string): Promise<boolean> {
  return fs.stat(p).then((s) => s.isFile(), () => false);
}

/** nvcc is often installed but not on a non-interactive SSH PATH. */
export async function findNvcc(env: NodeJS.ProcessEnv): Promise<string | null> {
  const onPath = await which('nvcc', env);
  if (onPath) return onPath;
  for (const p of [env.CUDA_HOME && path.join(env.CUDA_HOME, 'bin', 'nvcc'), '/usr/local/cuda/bin/nvcc']) {
    if (p && (await isFile(p))) return p;
  }
  return null;
}

/** GPUs nvidia-smi lists; a clear error when there is none or the pair does not exist. */
export async function requireGpus(run: RunTool, env: NodeJS.ProcessEnv, gpus: number[]): Promise<number> {
  const r = await run('nvidia-smi', GPU_QUERY_ARGS, { env, timeoutMs: 20_000 });
  if (!r.found) {
    throw new UserFacingError('no-gpu', 'There is no GPU on this host: nvidia-smi was not found. The fabric probe measures copies between two GPUs of one host; run it on a GPU host (or install the NVIDIA driver).');
  }
  const count = r.code === 0 ? parseGpuQueryCsv(r.stdout).length : 0;
  if (r.code !== 0 && !/No devices were found/i.test(r.stdout + r.stderr)) {
    throw new UserFacingError('no-gpu', `There is no usable GPU on this host: nvidia-smi failed (${failureDetail(r)}). Check that the NVIDIA driver is loaded (nvidia-smi must list the GPUs), then run the probe again.`);
  }
  if (count === 0) {
    throw new UserFacingError('no-gpu', 'There is no GPU on this host: nvidia-smi lists none. The fabric probe measures copies between two GPUs of one host; run it on a GPU host.');
  }
  const missing = gpus.find((g) => g >= count);
  if (missing !== undefined) {
    throw new UserFacingError('gpu-missing', `GPU ${missing} does not exist on this host; it has ${count} GPU${count === 1 ? '' : 's'} (0–${count - 1}). Pick GPUs from that range.`);
  }
  return count;
}

/** Python interpreters with torch, vLLM environments first. */
export async function torchPythons(deps: Pick<LocateDeps, 'env' | 'userHome' | 'run'>): Promise<PythonEnv[]> {
  const { envs } = await probePythons(await candidatePythons(deps.env, deps.userHome), deps.run, deps.env);
  const withTorch = envs.filter((e) => typeof e.packages.torch === 'string');
  return withTorch.sort((a, b) => Number(typeof b.packages.vllm === 'string') - Number(typeof a.packages.vllm === 'string'));
}

async function check(run: RunTool, bin: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  const r = await run(bin, ['--check'], { env, timeoutMs: CHECK_TIMEOUT_MS });
  return r.code === 0 ? null : failureDetail(r);
}

// One build per source hash at a time: two probes asked together must not compile into one dir.
const builds = new Map<string, Promise<string | null>>();

async function buildWithNvcc(deps: LocateDeps, src: KvprobeSources, dir: string, nvcc: string, notes: string[]): Promise<string | null> {
  const srcDir = path.join(dir, 'src');
  await fs.mkdir(path.join(srcDir, 'kvprobe'), { recursive: true });
  await fs.writeFile(path.join(srcDir, 'kvprobe', 'kvprobe.cu'), src.cu);
  await fs.writeFile(path.join(srcDir, 'build-kvprobe.sh'), src.buildSh, { mode: 0o755 });
  deps.progress(`building kvprobe with ${nvcc} (sm_80, sm_90, sm_100)`);
  const r = await deps.run('bash', [path.join(srcDir, 'build-kvprobe.sh'), '--out', dir, '--nvcc', nvcc], { env: deps.env, timeoutMs: BUILD_TIMEOUT_MS, ...(deps.signal ? { signal: deps.signal } : {}) });
  if (r.code !== 0) {
    const tail = r.stderr.trim().split('\n').slice(-3).join(' | ');
    notes.push(`building kvprobe with ${nvcc} failed (${r.timedOut ? 'timed out' : `exit ${r.code}`}): ${tail || failureDetail(r)}`);
    return null;
  }
  return path.join(dir, 'kvprobe');
}

export async function locateKvprobe(choice: KvprobeImplementationChoice, deps: LocateDeps): Promise<LocatedKvprobe> {
  const src = deps.sources ?? kvprobeSources();
  const notes: string[] = [];
  if (choice !== 'torch') {
    deps.progress('looking for a kvprobe binary');
    const prebuilt = path.join(deps.prebuiltDir, 'kvprobe');
    if (await isFile(prebuilt)) {
      const why = await check(deps.run, prebuilt, deps.env);
      if (why === null) return { provenance: { via: 'prebuilt', path: prebuilt, notes }, argv: [prebuilt] };
      notes.push(`the prebuilt kvprobe does not run with this host's driver: ${why}`);
    } else {
      notes.push('the agent bundle holds no prebuilt kvprobe');
    }
    const dir = path.join(deps.agentHome, 'kvprobe', src.sourceHash);
    const cachedBin = path.join(dir, 'kvprobe');
    if (await isFile(cachedBin)) {
      const why = await check(deps.run, cachedBin, deps.env);
      if (why === null) return { provenance: { via: 'cached', path: cachedBin, notes }, argv: [cachedBin] };
      notes.push(`the kvprobe built earlier in ${dir} does not run: ${why}`);
    }
    const nvcc = await findNvcc(deps.env);
    if (!nvcc) {
      notes.push('no nvcc to build kvprobe (looked on PATH, in $CUDA_HOME/bin and /usr/local/cuda/bin)');
    } else {
      let pending = builds.get(dir);
      if (!pending) {
        pending = buildWithNvcc(deps, src, dir, nvcc, notes).finally(() => builds.delete(dir));
        builds.set(dir, pending);
      }
      const built = await pending;
      if (built) {
        const why = await check(deps.run, built, deps.env);
        if (why === null) return { provenance: { via: 'built', path: built, notes }, argv: [built] };
        notes.push(`the kvprobe built with ${nvcc} does not run with this host's driver: ${why}`);
      }
    }
    if (choice === 'native') {
      throw new UserFacingError('kvprobe-unavailable', `No native kvprobe can run on this host: ${notes.join('; ')}. Install a CUDA toolkit that matches the driver, or let Handoff use the PyTorch fallback (implementation auto).`);
    }
  }
  deps.progress('looking for a Python with torch');
  const pythons = await torchPythons(deps);
  const py = pythons[0];
  if (!py) {
    notes.push('no Python environment with torch was found (looked at python3 on PATH, $HANDOFF_PYTHONS, ~/.venv*, conda envs)');
    throw new UserFacingError('kvprobe-unavailable', `Cannot run the fabric probe on this host: ${notes.join('; ')}. Install the CUDA toolkit (nvcc) or a vLLM environment with torch, or list a Python that has torch in HANDOFF_PYTHONS, then run the probe again.`);
  }
  const script = path.join(deps.agentHome, 'kvprobe', src.sourceHash, 'kvprobe_torch.py');
  await fs.mkdir(path.dirname(script), { recursive: true });
  await fs.writeFile(script, src.torchPy);
  return { provenance: { via: 'torch', path: py.path, notes }, argv: [py.path, script] };
}
