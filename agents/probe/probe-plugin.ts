import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserFacingError } from '../../common/errors';
import { defaultBlockCounts, type ProbeKvParams, type ProbeKvResult, type ProbeProgress } from '../../common/kv/fabric-probe';
import type { DaemonPlugin } from '../daemon/agent-daemon';
import { runTool } from '../host/run-tool';
import { locateKvprobe, requireGpus } from './kvprobe-locate';
import { runKvprobe } from './kvprobe-process';

/**
 * probe.kv / probe.cancel: the fabric probe (issue 9 §1) run by the host's agent. The prebuilt
 * binary, if the app ships one, sits in `kvprobe-prebuilt/` beside the agent bundle.
 */
const PROBE_TIMEOUT_MS = 15 * 60_000;

/** Test-only: HANDOFF_KVPROBE_DEVICE=cpu makes the PyTorch fallback run on CPU tensors (implementation "cpu"). */
export const KVPROBE_DEVICE_ENV = 'HANDOFF_KVPROBE_DEVICE';

export function kvprobeArgs(p: ProbeKvParams, torch: boolean, env: NodeJS.ProcessEnv): string[] {
  const s = p.shape;
  const args = [
    '--src', String(p.srcGpu), '--dst', String(p.dstGpu),
    '--layers', String(s.layers), '--kv-heads', String(s.kvHeadsPerRank), '--head-dim', String(s.headDim),
    '--dtype-bytes', String(s.dtypeBytes), '--block-size', String(s.blockSize),
    '--blocks', (p.blockCounts ?? defaultBlockCounts(s.blockSize)).join(','),
  ];
  if (p.modes) args.push('--modes', p.modes.join(','));
  if (p.iterations) args.push('--iterations', String(p.iterations));
  if (torch && env[KVPROBE_DEVICE_ENV] === 'cpu') args.push('--device', 'cpu');
  return args;
}

export const probePlugin: DaemonPlugin = (api) => {
  const log = api.log.child({ domain: 'probe' });
  const running = new Map<string, AbortController>();
  const prebuiltDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'kvprobe-prebuilt');

  api.registry.handle('probe.kv', async (params, ctx): Promise<ProbeKvResult> => {
    const probeId = params.probeId ?? `probe-${Date.now().toString(36)}`;
    if (running.has(probeId)) throw new UserFacingError('probe-busy', `A probe with id ${probeId} is already running.`);
    const ac = new AbortController();
    const onGone = () => ac.abort();
    ctx.signal.addEventListener('abort', onGone, { once: true });
    running.set(probeId, ac);
    const notify = (phase: ProbeProgress['phase'], message: string, fraction?: number) =>
      ctx.notify('probe.progress', { probeId, phase, message, ...(fraction !== undefined ? { fraction } : {}) } satisfies ProbeProgress);
    const env = process.env;
    try {
      notify('locate', 'checking the GPUs');
      await requireGpus(runTool, env, [params.srcGpu, params.dstGpu]);
      const located = await locateKvprobe(params.implementation ?? 'auto', {
        env,
        agentHome: api.layout.home,
        userHome: env.HOME ?? os.homedir(),
        prebuiltDir,
        run: runTool,
        progress: (m) => notify(located0(m), m),
        signal: ac.signal,
      });
      if (ac.signal.aborted) throw new UserFacingError('cancelled', 'The fabric probe was cancelled.');
      log.info('kvprobe located', { probeId, via: located.provenance.via, path: located.provenance.path, notes: located.provenance.notes });
      notify('measure', `running ${located.provenance.via === 'torch' ? 'the PyTorch fallback' : 'kvprobe'}`, 0);
      const argv = [...located.argv, ...kvprobeArgs(params, located.provenance.via === 'torch', env)];
      const result = await runKvprobe(argv, {
        env,
        signal: ac.signal,
        timeoutMs: PROBE_TIMEOUT_MS,
        onProgress: (fraction, message) => notify('measure', message, fraction),
      });
      return { result, provenance: located.provenance };
    } finally {
      running.delete(probeId);
      ctx.signal.removeEventListener('abort', onGone);
    }
  });

  api.registry.handle('probe.cancel', (params) => {
    const ac = running.get(params.probeId);
    ac?.abort();
    return { cancelled: ac !== undefined };
  });

  api.onShutdown(() => {
    for (const ac of running.values()) ac.abort();
  });
};

/** Build messages are the "build" phase, the rest of locating is "locate". */
function located0(message: string): ProbeProgress['phase'] {
  return message.startsWith('building') ? 'build' : 'locate';
}
