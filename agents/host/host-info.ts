import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import type { HostInfo, ToolVersion } from '../../common/host';
import { GPU_QUERY_ARGS, parseGpuQueryCsv, parseNvidiaSmiHeader, parseTopoMatrix } from './nvidia-smi-parse';
import { freeBytesUnder, glibcVersion, readOsRelease } from './os-facts';
import { candidatePythons, probePythons, which, type PythonProbeFailure } from './python-envs';
import { failureDetail, runTool, type RunTool, type ToolRun } from './run-tool';
import { parseDockerVersion, parseNvccVersion, parseUcxInfoVersion } from './tool-version-parse';

/**
 * host.info: what a deployment planner and the Hosts page need to know about a machine. Every
 * probe runs in parallel with its own timeout; a missing tool is reported as {found:false}, and a
 * tool that fails is reported with its message in `detail`, never as an error of the call.
 */

export interface CollectOptions {
  agentVersion: string;
  env?: NodeJS.ProcessEnv;
  home?: string;
  run?: RunTool;
  /** Called with interpreters that exist but could not be probed (broken envs), for the daemon log. */
  onPythonFailures?: (failures: PythonProbeFailure[]) => void;
}

const SMI_TIMEOUT_MS = 20_000;
const TOOL_TIMEOUT_MS = 8_000;

function missing(): ToolVersion {
  return { found: false, version: null };
}

function toolVersion(r: ToolRun, parse: (text: string) => string | null): ToolVersion {
  if (!r.found) return missing();
  const text = `${r.stdout}\n${r.stderr}`;
  const version = parse(text);
  if (r.code === 0 && version) return { found: true, version };
  return { found: true, version, detail: failureDetail(r) };
}

/** nvcc is often installed but not on a non-interactive SSH PATH. */
async function findNvcc(env: NodeJS.ProcessEnv): Promise<string> {
  const onPath = await which('nvcc', env);
  if (onPath) return onPath;
  for (const p of [env.CUDA_HOME && path.join(env.CUDA_HOME, 'bin', 'nvcc'), '/usr/local/cuda/bin/nvcc']) {
    if (p && (await fs.access(p).then(() => true, () => false))) return p;
  }
  return 'nvcc';
}

export async function collectHostInfo(opts: CollectOptions): Promise<HostInfo> {
  const env = opts.env ?? process.env;
  const home = opts.home ?? env.HOME ?? os.homedir();
  const run = opts.run ?? runTool;
  const t = { env };

  const [smiQuery, smiTopo, smiBare, ucx, docker, nvcc, pythons, osRelease, diskFree] = await Promise.all([
    run('nvidia-smi', GPU_QUERY_ARGS, { ...t, timeoutMs: SMI_TIMEOUT_MS }),
    run('nvidia-smi', ['topo', '-m'], { ...t, timeoutMs: SMI_TIMEOUT_MS }),
    run('nvidia-smi', [], { ...t, timeoutMs: SMI_TIMEOUT_MS }),
    run('ucx_info', ['-v'], { ...t, timeoutMs: TOOL_TIMEOUT_MS }),
    run('docker', ['--version'], { ...t, timeoutMs: TOOL_TIMEOUT_MS }),
    findNvcc(env).then((p) => run(p, ['--version'], { ...t, timeoutMs: TOOL_TIMEOUT_MS })),
    candidatePythons(env, home).then((c) => probePythons(c, run, env)),
    readOsRelease(),
    freeBytesUnder(home),
  ]);
  if (pythons.failures.length > 0) opts.onPythonFailures?.(pythons.failures);

  const header = smiBare.found && smiBare.code === 0 ? parseNvidiaSmiHeader(smiBare.stdout) : { smiVersion: null, driverVersion: null, cudaVersion: null };
  const gpus = smiQuery.found && smiQuery.code === 0 ? parseGpuQueryCsv(smiQuery.stdout) : [];
  const topology = smiTopo.found && smiTopo.code === 0 ? parseTopoMatrix(smiTopo.stdout) : null;
  let nvidiaSmi: ToolVersion;
  if (!smiQuery.found) nvidiaSmi = missing();
  // Installed without a working driver ("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver"): found, with the reason.
  else if (smiQuery.code !== 0) nvidiaSmi = { found: true, version: header.smiVersion, detail: failureDetail(smiQuery) };
  else nvidiaSmi = { found: true, version: header.smiVersion ?? header.driverVersion ?? gpus[0]?.driverVersion ?? null };

  const nvccParsed = nvcc.found ? parseNvccVersion(nvcc.stdout) : null;
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    os: { platform: os.platform(), release: osRelease.VERSION_ID ?? os.release(), prettyName: osRelease.PRETTY_NAME ?? null },
    kernel: os.release(),
    arch: os.arch(),
    glibc: glibcVersion(),
    cpus: { count: cpus.length || os.availableParallelism(), model: cpus[0]?.model.trim() ?? 'unknown' },
    memoryBytes: os.totalmem(),
    diskFreeBytesHome: diskFree,
    nvidiaSmi,
    gpus,
    topology,
    cudaVersion: header.cudaVersion ?? nvccParsed?.release ?? null,
    driverVersion: header.driverVersion ?? gpus[0]?.driverVersion ?? null,
    pythons: pythons.envs,
    ucx: toolVersion(ucx, parseUcxInfoVersion),
    docker: toolVersion(docker, parseDockerVersion),
    nvcc: toolVersion(nvcc, (text) => parseNvccVersion(text)?.version ?? null),
    agentVersion: opts.agentVersion,
    collectedAt: new Date().toISOString(),
  };
}

/**
 * Discovery takes seconds on a big GPU host (nvidia-smi, one python per env), and the UI asks often:
 * answers are reused for `ttlMs` unless refresh is asked, and concurrent askers share one run.
 */
export class HostInfoCache {
  private value: { info: HostInfo; at: number } | null = null;
  private inflight: Promise<HostInfo> | null = null;
  constructor(
    private readonly collect: () => Promise<HostInfo>,
    private readonly ttlMs = 15_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(refresh = false): Promise<HostInfo> {
    if (!refresh && this.value && this.now() - this.value.at < this.ttlMs) return Promise.resolve(this.value.info);
    if (this.inflight) return this.inflight;
    const p = this.collect().then(
      (info) => {
        this.value = { info, at: this.now() };
        this.inflight = null;
        return info;
      },
      (err: unknown) => {
        this.inflight = null;
        throw err;
      },
    );
    this.inflight = p;
    return p;
  }
}
