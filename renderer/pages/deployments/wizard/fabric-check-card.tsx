import { useEffect } from 'react';
import type { DeploymentPlan, PlannedProcess } from '../../../../common/deployment/plan';
import type { HostStatus } from '../../../../common/host';
import { classifyLink } from '../../../../common/kv/fabric-link';
import { kvGpuPairs, type KvGpuPair, type KvInstance } from '../../../../common/kv/fabric-match';
import { crossHostNote } from '../../../../common/kv/link-expectations';
import { useApp } from '../../../store/app-store';
import { FabricCheck } from '../../hosts/fabric-check';
import { LinkExpectationsTable, LinkLine } from '../../hosts/fabric-result';

/** More pairs than this (large TP × replicas) are summarised: each distinct link is what matters. */
const MAX_PAIRS = 8;
const VLLM_DEFAULT_BLOCK_SIZE = 16;

/** `--block-size N` or `--block-size=N` in a worker's argv; vLLM's default otherwise. */
export function blockSizeOf(argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = a === '--block-size' ? argv[i + 1] : a.startsWith('--block-size=') ? a.slice('--block-size='.length) : undefined;
    const n = v === undefined ? NaN : Number(v);
    if (Number.isInteger(n) && n > 0) return n;
  }
  return VLLM_DEFAULT_BLOCK_SIZE;
}

/** The prefill → decode GPU pairs a planned deployment moves KV between. */
export function planKvPairs(plan: DeploymentPlan): KvGpuPair[] {
  const instances = (role: PlannedProcess['role']): KvInstance[] =>
    plan.processes.filter((p) => p.kind === 'worker' && p.role === role && p.gpuIds.length > 0).map((p) => ({ host: p.host, gpuIds: p.gpuIds, tp: p.tp }));
  return kvGpuPairs(instances('prefill'), instances('decode'));
}

function PairCheck({ pair, plan, hosts, simulated, index }: { pair: KvGpuPair; plan: DeploymentPlan; hosts: readonly HostStatus[]; simulated: boolean; index: number }) {
  const host = hosts.find((h) => h.config.name === pair.srcHost);
  const testId = `wizard-fabric-pair-${index}`;
  const title = pair.crossHost ? `${pair.srcHost} GPU ${pair.srcGpu} → ${pair.dstHost} GPU ${pair.dstGpu}` : `GPU ${pair.srcGpu} → GPU ${pair.dstGpu} on ${pair.srcHost}`;
  if (pair.crossHost) {
    return (
      <div className="fabric-pair" data-testid={testId} data-cross-host="true">
        <div className="fabric-pair-head">
          <strong>{title}</strong>
          <span className="chip chip-idle">
            <span className="chip-dot" />
            across hosts
          </span>
        </div>
        <p className="small" data-testid={`${testId}-cross-host`}>
          {crossHostNote(pair.srcHost, pair.dstHost)}
        </p>
      </div>
    );
  }
  const decode = plan.processes.find((p) => p.kind === 'worker' && p.role === 'decode' && p.host === pair.dstHost && p.gpuIds.includes(pair.dstGpu));
  const request = {
    host: pair.srcHost,
    srcGpu: pair.srcGpu,
    dstGpu: pair.dstGpu,
    model: plan.model.path,
    tp: pair.decodeTp,
    blockSize: blockSizeOf(decode?.argv ?? []),
  };
  return (
    <div className="fabric-pair" data-testid={testId} data-cross-host="false">
      <div className="fabric-pair-head">
        <strong>{title}</strong>
        <LinkLine link={classifyLink(host?.info?.topology ?? null, pair.srcGpu, pair.dstGpu)} testId={`${testId}-link`} />
      </div>
      <p className="small muted">
        Block shape of {plan.model.path} at decode TP {request.tp}, block size {request.blockSize}.
      </p>
      <FabricCheck request={request} host={host} simulated={simulated} testId={`${testId}-check`} />
    </div>
  );
}

/**
 * Before deploying a disaggregated plan: the GPU links its KV cache will cross, each checkable with
 * kvprobe (issue 9 §2), so a slow path (PCIe through the CPU, no peer access) shows before NIXL
 * quietly falls back to it.
 */
export function FabricCheckCard({ plan, hosts, simulated }: { plan: DeploymentPlan; hosts: readonly HostStatus[]; simulated: boolean }) {
  const loadFabric = useApp((s) => s.loadFabric);
  const pairs = planKvPairs(plan);
  const hostNames = [...new Set(pairs.filter((p) => !p.crossHost).map((p) => p.srcHost))].join(',');
  useEffect(() => {
    for (const h of hostNames ? hostNames.split(',') : []) void loadFabric(h);
  }, [hostNames, loadFabric]);
  const shown = pairs.slice(0, MAX_PAIRS);
  const firstLocal = pairs.find((p) => !p.crossHost);
  const topo = firstLocal ? classifyLink(hosts.find((h) => h.config.name === firstLocal.srcHost)?.info?.topology ?? null, firstLocal.srcGpu, firstLocal.dstGpu).topo : null;
  return (
    <section className="card" data-testid="wizard-fabric">
      <h2 className="card-title">
        Fabric check <span className="muted small">optional, before you deploy</span>
      </h2>
      <p className="small">
        The KV cache of every request moves from a prefill GPU to a decode GPU. Measuring those links with the model's block shape shows the fastest a transfer can be, and whether the link is slow
        before NIXL falls back to it silently.
        {simulated ? ' This deployment is simulated: the mocker models transfers and needs no GPU, but the check measures the real GPUs of a host if it has them.' : ''}
      </p>
      {pairs.length === 0 ? (
        <p className="muted small" data-testid="wizard-fabric-no-pairs">
          No prefill → decode GPU pair is planned (the workers run without GPUs), so there is no GPU link to check.
        </p>
      ) : (
        <div className="fabric-pairs">
          {shown.map((p, i) => (
            <PairCheck key={`${p.srcHost}:${p.srcGpu}>${p.dstHost}:${p.dstGpu}`} pair={p} plan={plan} hosts={hosts} simulated={simulated} index={i} />
          ))}
          {pairs.length > shown.length ? (
            <p className="muted small" data-testid="wizard-fabric-more">
              {pairs.length - shown.length} more pairs; check them from each host's page.
            </p>
          ) : null}
        </div>
      )}
      <LinkExpectationsTable highlight={topo} />
    </section>
  );
}
