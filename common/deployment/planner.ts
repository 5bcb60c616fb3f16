import { LOCAL_HOST_NAME, type HostInfo, type PythonEnv } from '../host';
import { formatCpuList, parseCpuList } from '../cpu-list';
import { isLoopbackAddress, isUnspecifiedAddress, urlHost } from './addresses';
import type { DeploymentPlan, PlannedProcess } from './plan';
import { hasErrors, type Problem, type ProblemCode, type SpecPath } from './problems';
import { routerArgs } from './router-args';
import type { DeploymentSpec, VllmGroupOptions, WorkerGroupSpec, WorkerRole } from './spec';

/**
 * Turns a deployment spec plus host facts into concrete launches, or into the list of everything
 * that would stop it from working — before anything starts. Pure: no I/O, same input, same plan.
 * Engine facts come from shared/reference/vllm-disagg.md (§ cited where used).
 */
export interface PlanContext {
  /** GPUs held by other deployments, per host name. */
  busyGpus: Record<string, number[]>;
  /** Ports held by other deployments, per host name. */
  usedPorts: Record<string, number[]>;
  /** How to run handoff-agent on a host (e.g. [node, bundle]); one for all hosts or one per host. */
  agentCommand: string[] | Record<string, string[]>;
  /** Address by which other hosts reach a host (usually its SSH address); `this-computer` defaults to 127.0.0.1. */
  hostAddresses?: Record<string, string>;
  /** The deployment's directory on each host (cwd of its processes, router trace file). */
  deploymentDirs?: Record<string, string>;
}

export type PlanResult = { ok: true; plan: DeploymentPlan } | { ok: false; problems: Problem[] };

/** First auto-assigned HTTP ports: P=8100+i, D=8200+i as in vLLM's own scripts (reference §1.5). */
const AUTO_PORT_BASE: Record<WorkerRole, number> = { prefill: 8100, decode: 8200, both: 8100 };
/** vLLM's test scripts wait up to 1200 s for a worker to answer (reference §1.6). */
const VLLM_STARTUP_TIMEOUT_S = 1200;
const MOCKER_STARTUP_TIMEOUT_S = 60;
const ROUTER_STARTUP_TIMEOUT_S = 30;
/**
 * vLLM's CPU platform sizes its KV cache from VLLM_CPU_KVCACHE_SPACE (GiB); unset, older releases
 * used 4 GiB and newer ones take half the RAM of a NUMA node (vllm/platforms/cpu.py,
 * `get_device_total_memory`), which two workers on one host cannot both have. So it is always set.
 */
const CPU_KVCACHE_SPACE_GIB_DEFAULT = 4;
/** A GPU with more than this in use by something else is worth a warning. */
const GPU_FOREIGN_USE_WARN_MIB = 1024;

/** Variables the planner owns; a spec setting them would silently break placement or the handshake. */
const RESERVED_ENV: Record<string, string> = {
  CUDA_VISIBLE_DEVICES: 'set `gpus` on the worker group',
  VLLM_NIXL_SIDE_CHANNEL_HOST: 'set `hosts.<name>.address`',
  VLLM_NIXL_SIDE_CHANNEL_PORT: 'set `kvTransfer.sideChannelBasePort`',
  VLLM_CPU_KVCACHE_SPACE: 'set `vllm.cpu.kvCacheSpaceGiB`',
  VLLM_CPU_OMP_THREADS_BIND: 'set `vllm.cpu.ompThreadsBind`',
};

/** Values NIXL reads as "telemetry off". */
const TELEMETRY_OFF = /^(0|n|no|false|off)$/i;

/** vLLM flags the planner writes itself, and the spec field to use instead. */
const RESERVED_FLAGS: Record<string, string> = {
  '--host': 'the planner binds workers itself',
  '--port': 'set `port` on the worker group',
  '--model': 'set `model`',
  '--served-model-name': 'set `model.servedName`',
  '--tensor-parallel-size': 'set `tp` on the worker group',
  '-tp': 'set `tp` on the worker group',
  '--block-size': 'set `vllm.blockSize`',
  '--max-model-len': 'set `vllm.maxModelLen`',
  '--gpu-memory-utilization': 'set `vllm.gpuMemoryUtilization`',
  '--enforce-eager': 'set `vllm.enforceEager: true`',
  '--kv-transfer-config': 'set `kvTransfer`',
};

interface Group {
  index: number;
  spec: WorkerGroupSpec;
  name: string;
  role: WorkerRole;
  host: string;
  facts: HostInfo | undefined;
  tp: number;
  /** GPU ids per instance; empty lists on hosts without GPUs and for the mocker without `gpus`. */
  instances: number[][];
  cpuOnly: boolean;
  vllm: VllmGroupOptions;
  vllmCommand: string;
  path: SpecPath;
}

export function planDeployment(spec: DeploymentSpec, hosts: Record<string, HostInfo | undefined>, ctx: PlanContext): PlanResult {
  const problems: Problem[] = [];
  const add = (code: ProblemCode, message: string, path?: SpecPath, severity: Problem['severity'] = 'error') =>
    problems.push({ code, severity, message, ...(path ? { path } : {}) });
  const disagg = spec.mode === 'disaggregated';
  const isVllm = spec.engine === 'vllm';

  // ---- hosts -------------------------------------------------------------------------------
  const checkedHosts = new Map<string, boolean>();
  const knowHost = (host: string, path: SpecPath): boolean => {
    const known = checkedHosts.get(host);
    if (known !== undefined) return known;
    let ok = true;
    if (!(host in hosts)) {
      ok = false;
      const names = Object.keys(hosts);
      add('unknown-host', `Host "${host}" is not one of your hosts${names.length ? ` (${names.join(', ')})` : ''}. Add it first (handoff hosts add NAME USER@ADDRESS) or fix the name.`, path);
    } else if (hosts[host] === undefined) {
      ok = false;
      add('host-facts-missing', `Host "${host}" has not been checked yet, so its GPUs and software are unknown. Connect to it (handoff hosts check ${host}) and plan again.`, path);
    }
    checkedHosts.set(host, ok);
    return ok;
  };

  // ---- groups: names, roles ------------------------------------------------------------------
  const roleCounts = new Map<string, number>();
  const groups: Group[] = [];
  spec.workers.forEach((g, index) => {
    const path: SpecPath = ['workers', index];
    let role: WorkerRole;
    if (!disagg) {
      role = g.role ?? 'both';
      if (role !== 'both') add('role-mode-mismatch', `Worker group ${index} has role "${role}" but the deployment is aggregated. Set mode: disaggregated, or remove the role.`, [...path, 'role']);
    } else {
      role = g.role ?? 'both';
      if (g.role === undefined) add('role-mode-mismatch', `Worker group ${index} has no role. In a disaggregated deployment every group is role: prefill or role: decode.`, path);
      else if (g.role === 'both') add('role-mode-mismatch', `Worker group ${index} has role "both", which a disaggregated deployment cannot route to. Use role: prefill or role: decode, or set mode: aggregated.`, [...path, 'role']);
    }
    const n = (roleCounts.get(role) ?? 0) + 1;
    roleCounts.set(role, n);
    const host = g.host ?? LOCAL_HOST_NAME;
    groups.push({
      index,
      spec: g,
      name: g.name ?? (n === 1 ? role : `${role}${n}`),
      role,
      host,
      facts: knowHost(host, [...path, 'host']) ? hosts[host] : undefined,
      tp: g.tp ?? 1,
      instances: [],
      cpuOnly: false,
      vllm: mergeVllm(spec.vllm, g.vllm),
      vllmCommand: 'vllm',
      path,
    });
  });
  const seenNames = new Map<string, number>();
  for (const g of groups) {
    const prev = seenNames.get(g.name);
    if (prev !== undefined) add('duplicate-name', `Worker groups ${prev} and ${g.index} are both named "${g.name}". Give each group its own name.`, [...g.path, 'name']);
    else seenNames.set(g.name, g.index);
  }
  if (disagg) {
    if (!groups.some((g) => g.spec.role === 'prefill')) add('role-mode-mismatch', 'A disaggregated deployment needs at least one worker group with role: prefill.', ['workers']);
    if (!groups.some((g) => g.spec.role === 'decode')) add('role-mode-mismatch', 'A disaggregated deployment needs at least one worker group with role: decode.', ['workers']);
  } else {
    const d = spec.router.disaggregation;
    if (d.remotePrefillMinTokens !== 0 || d.prefillQueueLimit !== undefined) {
      add('router-mode-option', 'router.disaggregation only applies to disaggregated deployments; it is ignored here.', ['router', 'disaggregation'], 'warning');
    }
  }

  const routerHost = spec.router.host ?? (groups.find((g) => g.role === 'decode') ?? groups[0])?.host ?? LOCAL_HOST_NAME;
  knowHost(routerHost, ['router', 'host']);

  // ---- GPUs and instances ----------------------------------------------------------------------
  const takenInSpec = new Map<string, Map<number, string>>(); // host → gpu → group name
  const namedInSpec = (host: string) => new Set(groups.filter((g) => g.host === host).flatMap((g) => (g.spec.gpus ?? []).flat()));
  const take = (host: string) => takenInSpec.get(host) ?? takenInSpec.set(host, new Map()).get(host)!;
  const busy = (host: string) => new Set(ctx.busyGpus[host] ?? []);

  for (const g of groups) {
    const gpuCount = g.facts?.gpus.length ?? 0;
    g.cpuOnly = isVllm && g.facts !== undefined && gpuCount === 0;
    const replicas = g.spec.replicas;
    const gpusPath = [...g.path, 'gpus'];
    const raw = g.spec.gpus;
    if (raw === undefined) continue; // auto-assigned below
    if (g.cpuOnly) {
      add('gpu-missing', `Host "${g.host}" has no GPU (nvidia-smi found none), but worker group "${g.name}" asks for GPUs ${JSON.stringify(raw)}. Remove gpus to run vLLM's CPU build there, pick a GPU host, or use engine: mocker.`, gpusPath);
      g.instances = Array.from({ length: replicas ?? 1 }, () => []);
      continue;
    }
    let lists: number[][];
    if (raw.length > 0 && Array.isArray(raw[0])) {
      lists = raw as number[][];
      if (replicas !== undefined && replicas !== lists.length) {
        add('tp-gpu-mismatch', `Worker group "${g.name}" has replicas: ${replicas} but ${lists.length} GPU lists. Give one GPU list per instance, or drop replicas.`, [...g.path, 'replicas']);
      }
    } else {
      const flat = raw as number[];
      const r = replicas ?? 1;
      if (flat.length % r !== 0 || flat.length === 0) {
        add('tp-gpu-mismatch', `Worker group "${g.name}" has ${flat.length} GPUs for ${r} replicas; each replica needs tp (${g.tp}) GPUs, so list ${r * g.tp} GPUs.`, gpusPath);
        lists = [flat];
      } else {
        const per = flat.length / r;
        lists = Array.from({ length: r }, (_, i) => flat.slice(i * per, (i + 1) * per));
      }
    }
    lists.forEach((ids, i) => {
      if (ids.length !== g.tp) {
        const hint =
          ids.length > g.tp && ids.length % g.tp === 0
            ? `set tp: ${ids.length}, or replicas: ${ids.length / g.tp} to run ${ids.length / g.tp} instances`
            : `set tp: ${ids.length}, or list ${g.tp} GPUs per instance`;
        add('tp-gpu-mismatch', `Worker group "${g.name}"${lists.length > 1 ? ` instance ${i}` : ''} has tp: ${g.tp} but ${ids.length} GPU${ids.length === 1 ? '' : 's'} (${ids.join(', ')}). Each instance needs exactly tp GPUs: ${hint}.`, gpusPath);
      }
    });
    g.instances = lists;
    const mine = take(g.host);
    const hostBusy = busy(g.host);
    for (const id of lists.flat()) {
      const other = mine.get(id);
      if (other !== undefined) {
        add('gpu-duplicate', `GPU ${id} on "${g.host}" is given to both "${other}" and "${g.name}". Each GPU serves one worker instance.`, gpusPath);
        continue;
      }
      mine.set(id, g.name);
      if (!isVllm || !g.facts) continue; // the mocker only simulates GPUs
      const info = g.facts.gpus.find((x) => x.index === id);
      if (!info) {
        add('gpu-missing', `GPU ${id} does not exist on "${g.host}" (it has ${describeGpuIds(g.facts)}). Pick one of those.`, gpusPath);
      } else if (hostBusy.has(id)) {
        add('gpu-busy', `GPU ${id} on "${g.host}" is used by another deployment. ${freeGpuHint(g.facts, hostBusy, namedInSpec(g.host))}`, gpusPath);
      } else if (info.memoryUsedMiB > GPU_FOREIGN_USE_WARN_MIB) {
        add('gpu-memory-in-use', `GPU ${id} on "${g.host}" already has ${Math.round(info.memoryUsedMiB)} MiB of ${Math.round(info.memoryTotalMiB)} MiB in use by another program; vLLM may not find the memory it expects.`, gpusPath, 'warning');
      }
    }
  }
  // Groups without `gpus`: free GPUs in index order on GPU hosts (vLLM), none otherwise.
  for (const g of groups) {
    if (g.spec.gpus !== undefined) continue;
    const r = g.spec.replicas ?? 1;
    if (!isVllm || !g.facts || g.cpuOnly) {
      g.instances = Array.from({ length: r }, () => []);
      continue;
    }
    const mine = take(g.host);
    const hostBusy = busy(g.host);
    const free = g.facts.gpus.map((x) => x.index).filter((id) => !hostBusy.has(id) && !mine.has(id));
    const need = r * g.tp;
    if (free.length < need) {
      add('not-enough-gpus', `Worker group "${g.name}" needs ${need} GPU${need === 1 ? '' : 's'} (${r} × tp ${g.tp}) on "${g.host}" but only ${free.length} ${free.length === 1 ? 'is' : 'are'} free (${free.join(', ') || 'none'}). Lower tp or replicas, or free GPUs.`, g.path);
      g.instances = Array.from({ length: r }, () => []);
      continue;
    }
    g.instances = Array.from({ length: r }, (_, i) => free.slice(i * g.tp, (i + 1) * g.tp));
    for (const id of g.instances.flat()) mine.set(id, g.name);
  }

  // ---- P/D compatibility (reference §1.7, §7 pitfalls 6 and 7) ------------------------------------
  if (disagg) {
    const prefill = groups.filter((g) => g.role === 'prefill');
    const decode = groups.filter((g) => g.role === 'decode');
    for (const p of prefill) {
      for (const d of decode) {
        if (p.tp > d.tp) {
          add('prefill-tp-exceeds-decode', `Prefill group "${p.name}" has tp: ${p.tp}, more than decode group "${d.name}" (tp: ${d.tp}). NIXL's KV transfer with prefill TP > decode TP is unsupported or fragile across vLLM versions; use prefill tp ≤ decode tp (equal is safest).`, [...p.path, 'tp']);
        }
      }
    }
    const kvGroups = [...prefill, ...decode];
    const sizes = new Map<string, Group[]>();
    for (const g of kvGroups) {
      const key = g.vllm.blockSize === undefined ? 'default' : String(g.vllm.blockSize);
      sizes.set(key, [...(sizes.get(key) ?? []), g]);
    }
    if (sizes.size > 1) {
      const desc = [...sizes].map(([k, gs]) => `${gs.map((g) => g.name).join(', ')}: ${k === 'default' ? "vLLM's default" : k}`).join('; ');
      const first = kvGroups.find((g) => g.spec.vllm?.blockSize !== undefined) ?? kvGroups[0]!;
      add('block-size-mismatch', `Prefill and decode must use the same KV block size, but they differ (${desc}). Set vllm.blockSize once at the top level and remove the per-group values.`, [...first.path, 'vllm', 'blockSize']);
    }
    if (isVllm) {
      const cpu = kvGroups.filter((g) => g.facts && g.cpuOnly);
      const gpu = kvGroups.filter((g) => g.facts && !g.cpuOnly);
      if (cpu.length && gpu.length) {
        // vLLM PR #28356 review: the CPU attention backend packs KV blocks differently, so CPU and GPU workers cannot share them.
        add('mixed-platforms', `Workers ${cpu.map((g) => g.name).join(', ')} run on hosts without a GPU and ${gpu.map((g) => g.name).join(', ')} on GPU hosts. vLLM's CPU and GPU workers lay out KV blocks differently and cannot hand them over; put prefill and decode on the same kind of host.`, cpu[0]!.path);
      }
      if (spec.kvTransfer.bufferDevice === 'cuda' && cpu.length) {
        add('kv-buffer-device-unsupported', `kvTransfer.bufferDevice is "cuda" but ${cpu.map((g) => `"${g.host}"`).join(', ')} has no GPU. Remove bufferDevice (the planner uses "cpu" there) or set it to "cpu".`, ['kvTransfer', 'bufferDevice']);
      }
      // Seen with vllm-cpu 0.32 + NIXL (docs/real-vllm.md): an eager KV consumer dies with SIGILL in
      // cpu_attention_with_kv_cache on its first remotely prefilled request; compiled, it works.
      for (const g of cpu.filter((x) => x.role === 'decode' && x.vllm.enforceEager === true)) {
        const where = g.spec.vllm?.enforceEager !== undefined ? [...g.path, 'vllm', 'enforceEager'] : ['vllm', 'enforceEager'];
        add('cpu-decode-enforce-eager', `Decode group "${g.name}" runs vLLM's CPU build on "${g.host}" (no GPU) with enforceEager: true. vLLM's CPU build (seen with vllm-cpu 0.32) crashes such a KV consumer with "Fatal Python error: Illegal instruction" on its first remotely prefilled request. Set vllm.enforceEager: false for this group (the first start then compiles for several minutes).`, where, 'warning');
      }
    }
  }

  // ---- engine installed, model present ------------------------------------------------------
  const pythonChecked = new Set<string>();
  if (isVllm) {
    for (const g of groups) {
      const python = g.spec.python ?? spec.hosts[g.host]?.python;
      const pyPath: SpecPath = g.spec.python !== undefined ? [...g.path, 'python'] : ['hosts', g.host, 'python'];
      if (python !== undefined && !python.startsWith('/')) {
        if (pythonChecked.has(python)) continue;
        pythonChecked.add(python);
        add('path-not-absolute', `python "${python}" must be an absolute path: processes start without a shell, so "~" and relative paths are not expanded.`, pyPath);
        continue;
      }
      if (!g.facts) continue;
      const key = `${g.host}\u0000${python ?? ''}`;
      const env = python !== undefined ? findPython(g.facts.pythons, python) : g.facts.pythons.find((p) => typeof p.packages['vllm'] === 'string');
      g.vllmCommand = vllmCommandFor(python ?? env?.path);
      if (pythonChecked.has(key)) continue;
      pythonChecked.add(key);
      if (python !== undefined && !env) {
        add('python-env-unknown', `Host discovery on "${g.host}" did not find the Python environment ${python}, so whether it has vLLM is unchecked. It will be used as given (${g.vllmCommand}).`, pyPath, 'warning');
        continue;
      }
      if (!env || typeof env.packages['vllm'] !== 'string') {
        const where = env ? `the Python environment ${env.path}` : `any Python environment on "${g.host}"${g.facts.pythons.length ? ` (checked ${g.facts.pythons.map((p) => p.path).join(', ')})` : ''}`;
        const install = g.cpuOnly
          ? `install vLLM's CPU build there (no GPU on this host: https://docs.vllm.ai/en/latest/getting_started/installation/cpu.html)`
          : `install it: ${env?.path ?? g.facts.pythons[0]?.path ?? 'python3'} -m pip install vllm`;
        add('engine-not-installed', `vLLM is not installed in ${where}. Use engine: mocker to simulate the deployment without vLLM, or ${install}${env ? '' : ', then point hosts.' + g.host + '.python at that interpreter'}.`, python !== undefined ? pyPath : ['engine']);
        continue;
      }
      if (disagg) {
        const nixl = Object.entries(env.packages).filter(([name]) => /^nixl($|[-_])/.test(name));
        if (nixl.length && !nixl.some(([, v]) => typeof v === 'string')) {
          add('nixl-not-installed', `NIXL is not installed in ${env.path} on "${g.host}", and vLLM's NixlConnector needs it for the KV handoff. Install it: ${env.path} -m pip install nixl (the version pinned by your vLLM's requirements/kv_connectors.txt), or use mode: aggregated.`, python !== undefined ? pyPath : ['kvTransfer']);
        }
      }
    }

    const model = spec.model.path;
    if (model.startsWith('~') || model.startsWith('./') || model.startsWith('../')) {
      add('path-not-absolute', `model.path "${model}" must be an absolute path (or a Hugging Face id): processes start without a shell, so "~" and relative paths are not expanded.`, ['model']);
    } else {
      const offline = [spec.env, ...groups.map((g) => g.spec.env ?? {})].some((e) => e['HF_HUB_OFFLINE'] === '1');
      const modelHosts = [...new Set(groups.filter((g) => g.facts).map((g) => g.host))];
      for (const host of modelHosts) {
        const models = hosts[host]?.models;
        if (model.startsWith('/')) {
          if (models && !models.some((m) => m.path === model || m.name === model)) {
            add('model-not-found', `The model directory ${model} was not found on "${host}". Copy the model there, fix the path, or use a Hugging Face id.`, ['model']);
          }
        } else if (!models?.some((m) => m.name === model)) {
          if (offline) add('model-not-found', `${model} is not in the Hugging Face cache on "${host}" and HF_HUB_OFFLINE=1 forbids downloading it. Download it there first (huggingface-cli download ${model}) or unset HF_HUB_OFFLINE.`, ['model']);
          else add('model-will-download', `${model} is not in the Hugging Face cache on "${host}"${models ? '' : ' (or the cache was not checked)'}: vLLM will download it on first start, which can take long; gated models need HF_TOKEN in env.`, ['model'], 'warning');
        }
      }
    }
  }

  // ---- env and extra args ------------------------------------------------------------------------
  const checkEnv = (env: Record<string, string> | undefined, path: SpecPath) => {
    for (const k of Object.keys(env ?? {})) {
      const instead = RESERVED_ENV[k];
      if (instead) add('env-reserved', `${k} is set by the planner for each process; remove it from env and ${instead}.`, [...path, k]);
    }
  };
  checkEnv(spec.env, ['env']);
  groups.forEach((g) => checkEnv(g.spec.env, [...g.path, 'env']));

  // ---- CPU pinning ---------------------------------------------------------------------------
  const checkCpus = (cpus: string | undefined, host: string, path: SpecPath) => {
    const count = hosts[host]?.cpus.count;
    if (cpus === undefined || count === undefined) return;
    const beyond = parseCpuList(cpus).filter((c) => c >= count);
    if (beyond.length) add('cpus-unavailable', `CPUs ${formatCpuList(beyond)} do not exist on "${host}", which has ${count} (0-${count - 1}). Choose CPUs below ${count}.`, path);
  };
  groups.forEach((g) => checkCpus(g.spec.cpus, g.host, [...g.path, 'cpus']));
  checkCpus(spec.router.cpus, routerHost, ['router', 'cpus']);
  if (isVllm && spec.mode === 'disaggregated') {
    // vLLM's NixlConnector reads each transfer's telemetry back from NIXL; switched off, every KV
    // read raises nixlNoTelemetryError and decode answers HTTP 500 (vllm-cpu 0.32, nixl 1.5.1).
    const checkTelemetry = (env: Record<string, string> | undefined, path: SpecPath) => {
      const v = env?.['NIXL_TELEMETRY_ENABLE'];
      if (v !== undefined && TELEMETRY_OFF.test(v.trim())) {
        add('nixl-telemetry-disabled', `NIXL_TELEMETRY_ENABLE=${v} makes every KV read of vLLM's NixlConnector fail (nixlNoTelemetryError: NIXL_ERR_NO_TELEMETRY), so decode answers HTTP 500. Remove it from env: Handoff sets NIXL's telemetry for decode workers itself.`, [...path, 'NIXL_TELEMETRY_ENABLE']);
      }
    };
    checkTelemetry(spec.env, ['env']);
    groups.forEach((g) => checkTelemetry(g.spec.env, [...g.path, 'env']));
  }
  const checkArgs = (args: string[] | undefined, path: SpecPath) => {
    for (const a of args ?? []) {
      const flag = a.split('=')[0]!;
      const instead = RESERVED_FLAGS[flag] ?? (flag.startsWith('--kv-transfer-config.') ? 'set `kvTransfer`' : undefined);
      if (instead) add('extra-arg-reserved', `extraArgs contains ${flag}, which the planner writes itself: ${instead}.`, path);
    }
  };
  checkArgs(spec.vllm.extraArgs, ['vllm', 'extraArgs']);
  groups.forEach((g) => checkArgs(g.spec.vllm?.extraArgs, [...g.path, 'vllm', 'extraArgs']));

  // ---- addresses (reference §1.4, §7 pitfall 2) ---------------------------------------------------
  const addressOf = (host: string): string | undefined =>
    spec.hosts[host]?.address ?? ctx.hostAddresses?.[host] ?? (host === LOCAL_HOST_NAME ? '127.0.0.1' : undefined);
  const addressPath = (host: string): SpecPath => ['hosts', host, 'address'];
  const kvHosts = disagg ? [...new Set(groups.map((g) => g.host))] : [];
  const crossHostKv = kvHosts.length > 1;
  // An unknown host is reported already; judging addresses without it would only add noise.
  const allKnown = [...groups.map((g) => g.host), routerHost].every((h) => checkedHosts.get(h));
  const allLoopback = (hs: string[]) => hs.every((h) => { const a = addressOf(h); return a !== undefined && isLoopbackAddress(a); });
  const addressProblems = new Set<string>();
  if (crossHostKv && allKnown) {
    for (const host of kvHosts) {
      const a = addressOf(host);
      if (a === undefined) {
        addressProblems.add(host);
        add('host-address-unknown', `Workers on "${host}" exchange KV blocks with other hosts, which need its address. Set hosts.${host}.address to an IP the other hosts can reach.`, addressPath(host));
      } else if (isUnspecifiedAddress(a) || (isLoopbackAddress(a) && !allLoopback(kvHosts))) {
        addressProblems.add(host);
        add('side-channel-not-routable', `VLLM_NIXL_SIDE_CHANNEL_HOST on "${host}" would be ${a}, which the other hosts cannot reach, so decode's NIXL handshake would fail ("Remote NIXL agent engine ID mismatch") and it would silently prefill locally. Set hosts.${host}.address to an IP the other hosts can reach.`, addressPath(host));
      }
    }
  }
  for (const host of new Set(groups.map((g) => g.host))) {
    if (!allKnown || host === routerHost || addressProblems.has(host)) continue;
    const a = addressOf(host);
    const ra = addressOf(routerHost);
    if (a === undefined) {
      addressProblems.add(host);
      add('host-address-unknown', `The router on "${routerHost}" must reach the workers on "${host}", whose address is unknown. Set hosts.${host}.address.`, addressPath(host));
    } else if (isUnspecifiedAddress(a) || (isLoopbackAddress(a) && !(ra !== undefined && isLoopbackAddress(ra)))) {
      addressProblems.add(host);
      add('address-not-routable', `The router on "${routerHost}" cannot reach workers on "${host}" at ${a}. Set hosts.${host}.address to an IP that "${routerHost}" can reach, or run the router on "${host}".`, addressPath(host));
    }
  }

  // ---- ports -------------------------------------------------------------------------------------
  // Hosts reached over loopback are one machine (the test harness's 127.0.0.x sshd "hosts"), so they share one port space.
  const portSpace = (host: string) => { const a = addressOf(host); return a !== undefined && isLoopbackAddress(a) ? '\u0000loopback' : host; };
  const external = new Map<string, Set<number>>();
  for (const [host, ports] of Object.entries(ctx.usedPorts)) {
    const s = external.get(portSpace(host)) ?? new Set<number>();
    for (const p of ports) s.add(p);
    external.set(portSpace(host), s);
  }
  const owners = new Map<string, Map<number, string>>();
  const ownersOf = (host: string) => owners.get(portSpace(host)) ?? owners.set(portSpace(host), new Map()).get(portSpace(host))!;
  const isFree = (host: string, p: number) => p <= 65535 && !ownersOf(host).has(p) && !external.get(portSpace(host))?.has(p);
  const nextFree = (host: string, from: number, width = 1) => {
    for (let p = from; p + width - 1 <= 65535; p++) {
      let ok = true;
      for (let q = p; q < p + width; q++) if (!isFree(host, q)) { ok = false; p = q; break; }
      if (ok) return p;
    }
    return undefined;
  };
  const claimExplicit = (host: string, port: number, what: string, path: SpecPath) => {
    const owner = ownersOf(host).get(port);
    if (owner !== undefined) {
      add('port-clash', `Port ${port} on "${host}" is given to both ${owner} and ${what}. Give each its own port.`, path);
    } else if (external.get(portSpace(host))?.has(port)) {
      const alt = nextFree(host, port + 1);
      add('port-in-use', `Port ${port} on "${host}" (${what}) is used by another deployment. Pick a free port${alt ? `, e.g. ${alt}` : ''}, or stop that deployment.`, path);
    }
    ownersOf(host).set(port, what);
  };
  const routerPort = spec.router.port;
  claimExplicit(routerHost, routerPort, 'the router', ['router', 'port']);
  const httpPorts = new Map<Group, number[]>();
  for (const g of groups) {
    if (g.spec.port === undefined) continue;
    httpPorts.set(g, g.instances.map((_, i) => {
      const p = g.spec.port! + i;
      claimExplicit(g.host, p, `worker ${g.name}-${i}`, [...g.path, 'port']);
      return p;
    }));
  }
  for (const g of groups) {
    if (g.spec.port !== undefined) continue;
    httpPorts.set(g, g.instances.map((_, i) => {
      const p = nextFree(g.host, AUTO_PORT_BASE[g.role]) ?? 0;
      ownersOf(g.host).set(p, `worker ${g.name}-${i}`);
      return p;
    }));
  }
  // Newest vLLM listens on base + DP rank, older on base + DP×TP + TP rank (reference §1.5, §7 pitfall 1): reserve TP ports per instance.
  const sidePorts = new Map<Group, number[][]>();
  if (disagg) {
    for (const g of groups) {
      sidePorts.set(g, g.instances.map((_, i) => {
        const base = nextFree(g.host, spec.kvTransfer.sideChannelBasePort, g.tp) ?? 0;
        const range = Array.from({ length: g.tp }, (_, k) => base + k);
        for (const p of range) ownersOf(g.host).set(p, `the NIXL side channel of ${g.name}-${i}`);
        return range;
      }));
    }
  }

  if (hasErrors(problems)) return { ok: false, problems };

  // ---- processes ---------------------------------------------------------------------------------
  const agentCmd = (host: string): string[] => (Array.isArray(ctx.agentCommand) ? ctx.agentCommand : ctx.agentCommand[host] ?? ['handoff-agent']);
  const dirOf = (host: string) => ctx.deploymentDirs?.[host];
  const servedName = spec.model.servedName ?? spec.model.path;
  const restart = spec.restart;
  const processes: PlannedProcess[] = [];
  for (const g of groups) {
    const sameHostAsRouter = g.host === routerHost;
    const bindHost = sameHostAsRouter ? '127.0.0.1' : addressOf(g.host)!;
    const sideHost = crossHostKv ? addressOf(g.host)! : '127.0.0.1';
    g.instances.forEach((gpuIds, i) => {
      const port = httpPorts.get(g)![i]!;
      const side = sidePorts.get(g)?.[i];
      const args = serveArgs(spec, g, bindHost, port);
      const argv = isVllm
        ? [g.vllmCommand, 'serve', ...args]
        : [...agentCmd(g.host), 'mocker', ...args, ...mockerArgs(spec)];
      const env: Record<string, string> = {};
      if (gpuIds.length) env['CUDA_VISIBLE_DEVICES'] = gpuIds.join(',');
      if (disagg) {
        env['UCX_NET_DEVICES'] = spec.kvTransfer.ucx.netDevices;
        if (spec.kvTransfer.ucx.tls !== undefined) env['UCX_TLS'] = spec.kvTransfer.ucx.tls;
        env['VLLM_NIXL_SIDE_CHANNEL_HOST'] = sideHost;
        env['VLLM_NIXL_SIDE_CHANNEL_PORT'] = String(side![0]);
        const telemetryDir = g.role === 'decode' ? nixlTelemetryDir(dirOf(g.host), `${g.name}-${i}`) : undefined;
        if (telemetryDir !== undefined) Object.assign(env, nixlTelemetryEnv(telemetryDir));
      }
      if (g.cpuOnly) {
        env['VLLM_CPU_KVCACHE_SPACE'] = String(spec.vllm.cpu?.kvCacheSpaceGiB ?? CPU_KVCACHE_SPACE_GIB_DEFAULT);
        // A pinned single-rank worker computes on its own CPUs: vLLM's "auto" would pick cores by
        // NUMA node without looking at the process's CPU set.
        const bind = spec.vllm.cpu?.ompThreadsBind ?? (g.spec.cpus !== undefined && g.tp === 1 ? g.spec.cpus : undefined);
        if (bind !== undefined) env['VLLM_CPU_OMP_THREADS_BIND'] = bind;
      }
      Object.assign(env, spec.env, g.spec.env ?? {});
      const url = `http://${urlHost(bindHost)}:${port}`;
      const dir = dirOf(g.host);
      processes.push({
        name: `${g.name}-${i}`,
        kind: 'worker',
        role: g.role,
        group: g.name,
        host: g.host,
        engine: spec.engine,
        argv,
        env,
        ...(dir !== undefined ? { cwd: dir } : {}),
        ...(g.spec.cpus !== undefined ? { cpus: g.spec.cpus } : {}),
        bindHost,
        port,
        url,
        metricsUrl: `${url}/metrics`,
        readiness: { url: `${url}/health`, path: '/health', timeoutS: spec.vllm.startupTimeoutS ?? (isVllm ? VLLM_STARTUP_TIMEOUT_S : MOCKER_STARTUP_TIMEOUT_S) },
        startOrder: 0,
        dependsOn: [],
        gpuIds,
        tp: g.tp,
        ...(side ? { sideChannel: { host: sideHost, port: side[0]!, reservedPorts: side } } : {}),
        cpuOnly: g.cpuOnly,
        restart,
      });
    });
  }
  const workers = processes.slice();
  const urlsOf = (role: WorkerRole) => workers.filter((p) => p.role === role).map((p) => p.url);
  const routerDir = dirOf(routerHost);
  const traceFile = spec.router.traceFile ?? (routerDir !== undefined ? `${routerDir}/router-traces.jsonl` : undefined);
  const routerUrl = `http://${urlHost(isUnspecifiedAddress(spec.router.bind) ? '127.0.0.1' : spec.router.bind)}:${routerPort}`;
  processes.push({
    name: 'router',
    kind: 'router',
    role: 'router',
    group: 'router',
    host: routerHost,
    engine: 'router',
    argv: [
      ...agentCmd(routerHost),
      'router',
      ...routerArgs({
        host: spec.router.bind,
        port: routerPort,
        mode: spec.mode,
        model: servedName,
        workers: disagg ? [] : urlsOf('both'),
        prefill: disagg ? urlsOf('prefill') : [],
        decode: disagg ? urlsOf('decode') : [],
        ...(disagg ? { remotePrefillMinTokens: spec.router.disaggregation.remotePrefillMinTokens } : {}),
        ...(disagg && spec.router.disaggregation.prefillQueueLimit !== undefined ? { prefillQueueLimit: spec.router.disaggregation.prefillQueueLimit } : {}),
        ...(traceFile !== undefined ? { traceFile } : {}),
      }),
    ],
    env: { ...spec.env },
    ...(routerDir !== undefined ? { cwd: routerDir } : {}),
    ...(spec.router.cpus !== undefined ? { cpus: spec.router.cpus } : {}),
    bindHost: spec.router.bind,
    port: routerPort,
    url: routerUrl,
    metricsUrl: `${routerUrl}/metrics`,
    readiness: { url: `${routerUrl}/health`, path: '/health', timeoutS: ROUTER_STARTUP_TIMEOUT_S },
    startOrder: 1,
    dependsOn: workers.map((p) => p.name),
    gpuIds: [],
    tp: 1,
    cpuOnly: false,
    restart,
  });

  const hostList = [...new Set([...groups.map((g) => g.host), routerHost])];
  const portsByHost: Record<string, number[]> = {};
  const gpusByHost: Record<string, number[]> = {};
  for (const p of processes) {
    const ports = (portsByHost[p.host] ??= []);
    ports.push(p.port, ...(p.sideChannel?.reservedPorts ?? []));
    if (isVllm && p.gpuIds.length) (gpusByHost[p.host] ??= []).push(...p.gpuIds);
  }
  for (const list of [...Object.values(portsByHost), ...Object.values(gpusByHost)]) list.sort((a, b) => a - b);

  return {
    ok: true,
    plan: {
      name: spec.name,
      engine: spec.engine,
      mode: spec.mode,
      model: { path: spec.model.path, servedName },
      processes,
      endpoint: { host: routerHost, url: routerUrl, openaiBaseUrl: `${routerUrl}/v1`, model: servedName },
      hosts: hostList,
      portsByHost,
      gpusByHost,
      warnings: problems,
    },
  };
}

/**
 * Where a decode worker's NIXL writes its per-transfer telemetry (docs/nixl-telemetry.md): one
 * directory per worker under the deployment's directory, one cyclic-buffer file per NIXL agent.
 */
export function nixlTelemetryDir(deploymentDir: string | undefined, worker: string): string | undefined {
  return deploymentDir === undefined ? undefined : `${deploymentDir}/nixl-telemetry/${worker}`;
}

/**
 * NIXL's buffer exporter (reference §6.1). 65,536 events hold 16,383 transfers between two reads
 * of the run collector; NIXL refuses events while the ring is full, and its default of 4,096 fills
 * in well under a second at high transfer rates.
 */
export function nixlTelemetryEnv(dir: string): Record<string, string> {
  // Version-4 events carry no timestamp, so a transfer is dated by when it reaches the file: a 10 ms
  // flush (NIXL's default is 100 ms) narrows that window enough to tie transfers to requests.
  return { NIXL_TELEMETRY_ENABLE: '1', NIXL_TELEMETRY_DIR: dir, NIXL_TELEMETRY_BUFFER_SIZE: '65536', NIXL_TELEMETRY_RUN_INTERVAL: '10' };
}

/** The words after `vllm serve`; the mocker takes the same ones (it accepts vLLM's CLI). Recipe: reference §1.6. */
function serveArgs(spec: DeploymentSpec, g: Group, bindHost: string, port: number): string[] {
  const o = g.vllm;
  const args = [spec.model.path, '--host', bindHost, '--port', String(port)];
  if (spec.model.servedName !== undefined) args.push('--served-model-name', spec.model.servedName);
  if (g.tp > 1) args.push('--tensor-parallel-size', String(g.tp));
  if (o.enforceEager) args.push('--enforce-eager');
  if (o.blockSize !== undefined) args.push('--block-size', String(o.blockSize));
  if (o.maxModelLen !== undefined) args.push('--max-model-len', String(o.maxModelLen));
  // The CPU build sizes its KV cache from VLLM_CPU_KVCACHE_SPACE instead.
  if (o.gpuMemoryUtilization !== undefined && !g.cpuOnly) args.push('--gpu-memory-utilization', String(o.gpuMemoryUtilization));
  if (spec.mode === 'disaggregated') args.push('--kv-transfer-config', JSON.stringify(kvTransferConfig(spec, g)));
  args.push(...(o.extraArgs ?? []));
  return args;
}

/** `--kv-transfer-config` JSON (reference §1.2). Same connector on P and D; the role only tells the router's legs apart. */
function kvTransferConfig(spec: DeploymentSpec, g: Group): Record<string, unknown> {
  const kv = spec.kvTransfer;
  const config: Record<string, unknown> = {
    kv_connector: kv.connector,
    kv_role: g.role === 'prefill' ? 'kv_producer' : 'kv_consumer',
    kv_load_failure_policy: kv.loadFailurePolicy,
  };
  // On a host without a GPU, NIXL can only stage KV in host memory: _NIXL_SUPPORTED_DEVICE maps cpu → {cpu}
  // (reference §1.2; vLLM PR #28356 "add cpu option for p/d in nixl_connector").
  const device = g.cpuOnly ? 'cpu' : kv.bufferDevice;
  if (device !== undefined) config['kv_buffer_device'] = device;
  if (kv.extraConfig !== undefined) config['kv_connector_extra_config'] = kv.extraConfig;
  return config;
}

function mockerArgs(spec: DeploymentSpec): string[] {
  const args: string[] = [];
  if (spec.mocker.profile !== undefined) args.push('--mocker-profile', spec.mocker.profile);
  for (const [key, value] of Object.entries(spec.mocker.options ?? {})) {
    const flag = `--mocker-${key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`;
    if (value === true) args.push(flag);
    else if (value !== false) args.push(flag, String(value));
  }
  return args;
}

function mergeVllm(top: VllmGroupOptions, group: VllmGroupOptions | undefined): VllmGroupOptions {
  const merged: VllmGroupOptions = { ...top, ...(group ?? {}) };
  merged.extraArgs = [...(top.extraArgs ?? []), ...(group?.extraArgs ?? [])];
  return merged;
}

/** `python` may name the interpreter or the environment directory. */
function findPython(pythons: PythonEnv[], python: string): PythonEnv | undefined {
  const dir = python.replace(/\/+$/, '');
  return pythons.find((p) => p.path === python || p.path.startsWith(dir + '/bin/'));
}

/**
 * The `vllm` console script of that environment: it sits next to the interpreter in bin/ for
 * virtual environments and conda. Preferred over `python -m`, which would put the process's cwd
 * first on sys.path (a vLLM checkout there would shadow the installed package).
 */
export function vllmCommandFor(python: string | undefined): string {
  if (python === undefined) return 'vllm';
  const p = python.replace(/\/+$/, '');
  const slash = p.lastIndexOf('/');
  const base = p.slice(slash + 1);
  if (/^python[0-9.]*$/.test(base)) return `${p.slice(0, slash)}/vllm`;
  return `${p}/bin/vllm`;
}

function describeGpuIds(facts: HostInfo): string {
  const ids = facts.gpus.map((g) => g.index);
  return ids.length ? `GPU${ids.length === 1 ? '' : 's'} ${ids.join(', ')}` : 'no GPU';
}

function freeGpuHint(facts: HostInfo, busy: Set<number>, taken: Set<number>): string {
  const free = facts.gpus.map((g) => g.index).filter((id) => !busy.has(id) && !taken.has(id));
  return free.length ? `Pick a free GPU (${free.join(', ')}) or stop that deployment first.` : 'No GPU is free on that host; stop that deployment first or use another host.';
}
