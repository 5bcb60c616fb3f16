import type { HostStatus } from '../../../common/host';

/**
 * The next step under a failed fabric check, by error code (common/kv/fabric-probe.ts lists the
 * codes the agent and controller raise). The error message says what happened; this says what the
 * user can do from here.
 */
export function fabricFailureHint(code: string, host: HostStatus | undefined, simulated: boolean): string | undefined {
  switch (code) {
    case 'no-gpu':
      return simulated || (host?.info && host.info.gpus.length === 0)
        ? `${host ? `"${host.config.name}"` : 'This host'} has no NVIDIA GPU (the simulated engine needs none), so there is no fabric to measure. The fabric check needs two NVIDIA GPUs on one host with a working driver; run it on a GPU host, or skip it for a simulated deployment.`
        : 'The agent found no usable GPU. Run "nvidia-smi" on the host, then Re-check the host and try again.';
    case 'kvprobe-unavailable':
      return 'Once nvcc or a Python with PyTorch is on the host, press Check again: the agent builds kvprobe once and keeps it (keyed by its source hash); figures from the PyTorch fallback are labelled as such.';
    case 'kvprobe-failed':
      return 'kvprobe started but failed; its message is above. A GPU busy with another program or a driver error are the usual causes: check "nvidia-smi" on the host.';
    case 'unknown-model':
      return 'Only models with a built-in config can be probed from here. Pick a built-in model, or run "handoff probe" with an explicit shape.';
    case 'unknown-host':
      return 'The host was removed meanwhile; add it again on the Hosts page.';
    default:
      return undefined;
  }
}

/** Why the check cannot run before it is even tried, or null when it can. */
export function fabricUnavailableReason(host: HostStatus | undefined, srcGpu: number, dstGpu: number): string | null {
  if (!host) return 'This host is not saved in Handoff: add it on the Hosts page first.';
  const info = host.info;
  if (!info) return `"${host.config.name}" has not been checked yet, so its GPUs are unknown: check the host first.`;
  if (info.gpus.length === 0) {
    return `"${host.config.name}" has no NVIDIA GPU (the simulated engine needs none). The fabric check copies KV blocks between two NVIDIA GPUs of one host, so it needs a GPU host.`;
  }
  if (srcGpu === dstGpu) return 'Source and destination are the same GPU: there is no link between them to measure.';
  const missing = [srcGpu, dstGpu].filter((g) => !info.gpus.some((x) => x.index === g));
  if (missing.length) return `"${host.config.name}" has no GPU ${missing.join(' or ')} (it lists ${info.gpus.map((g) => g.index).join(', ')}).`;
  return null;
}
