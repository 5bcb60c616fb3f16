import path from 'node:path';
import { UserFacingError } from '../../../common/errors';
import type { Task } from '../../../common/task';
import { findBuiltinModel, kvHeadsPerWorker } from '../../../common/model-config';
import { FabricFile, fabricKey, type FabricProbeParams, type FabricProbeRecord, type KvprobeShapeInput } from '../../../common/kv/fabric-probe';
import { classifyLink, fabricVerdict } from '../../../common/kv/fabric-link';
import { readJsonFile, writeJsonAtomic } from '../storage/json-file';
import type { HostService } from './host-service';
import type { TaskRunner } from '../tasks/task-runner';

const STEPS = [
  { id: 'connect', label: 'Connect to the host' },
  { id: 'locate', label: 'Find or build kvprobe' },
  { id: 'measure', label: 'Measure block copies' },
  { id: 'save', label: 'Save the result with the host' },
];

/** A probe of the 3,000-token block count with four modes takes seconds; builds can take a minute. */
const PROBE_TIMEOUT_MS = 15 * 60_000;

/** Resolves the block shape of a fabric probe: explicit, or from a built-in model config with TP. */
export function resolveProbeShape(p: FabricProbeParams): { shape: KvprobeShapeInput; model: string | null; tp: number | null } {
  if (p.shape) return { shape: p.shape, model: null, tp: null };
  const name = p.model ?? '';
  const m = findBuiltinModel(name);
  if (!m) {
    throw new UserFacingError('unknown-model', `No built-in config for model "${name}". Give the shape instead (layers, kv heads per rank, head dim, dtype bytes, block size), e.g. handoff probe HOST --layers 32 --kv-heads 8 --head-dim 128.`);
  }
  const tp = p.tp ?? 1;
  return { shape: { layers: m.layers, kvHeadsPerRank: kvHeadsPerWorker(m.kvHeads, tp), headDim: m.headDim, dtypeBytes: m.dtypeBytes, blockSize: p.blockSize ?? 16 }, model: m.name, tp };
}

/** Fabric probes of hosts: runs kvprobe through the host's agent and keeps results in hosts/<name>/fabric.json. */
export class FabricService {
  private writes: Promise<void> = Promise.resolve();

  constructor(private readonly opts: { home: string; hosts: HostService; tasks: TaskRunner }) {}

  fileOf(host: string): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(host)) throw new UserFacingError('invalid-params', `"${host}" is not a host name.`);
    return path.join(this.opts.home, 'hosts', host, 'fabric.json');
  }

  async records(host: string): Promise<FabricFile> {
    const file = await readJsonFile(this.fileOf(host), FabricFile, () => ({ version: 1 as const, records: [] }));
    return { version: 1, records: [...file.records].sort((a, b) => b.measuredAt.localeCompare(a.measuredAt)) };
  }

  async probe(p: FabricProbeParams): Promise<Task> {
    const hosts = await this.opts.hosts.list();
    const status = hosts.find((h) => h.config.name === p.host);
    if (!status) throw new UserFacingError('unknown-host', `No host named "${p.host}". Add it first with "handoff hosts add".`);
    const { shape, model, tp } = resolveProbeShape(p);
    const title = `Fabric probe ${p.host} GPU ${p.srcGpu} → GPU ${p.dstGpu}`;
    return this.opts.tasks.start('fabric-probe', title, STEPS, async (ctx) => {
      ctx.step('connect', 'running');
      const agent = await this.opts.hosts.agent(p.host, ctx.signal);
      ctx.step('connect', 'done');
      const probeId = `fp-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
      ctx.step('locate', 'running');
      let measuring = false;
      const off = agent.rpc.onAgentNotification('probe.progress', (n) => {
        if (n.probeId !== probeId) return;
        if (n.phase === 'measure') {
          if (!measuring) ctx.step('locate', 'done');
          measuring = true;
          ctx.step('measure', 'running', n.message, n.fraction);
        } else {
          ctx.step('locate', 'running', n.message, n.fraction);
        }
      });
      const onAbort = () => {
        // The call itself is abandoned by the signal; the probe's process group must be stopped too.
        agent.rpc.call('probe.cancel', { probeId }).catch(() => undefined);
      };
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      try {
        const reply = await agent.rpc.call(
          'probe.kv',
          {
            probeId,
            srcGpu: p.srcGpu,
            dstGpu: p.dstGpu,
            shape,
            ...(p.blockCounts ? { blockCounts: p.blockCounts } : {}),
            ...(p.modes ? { modes: p.modes } : {}),
            ...(p.iterations ? { iterations: p.iterations } : {}),
            ...(p.implementation ? { implementation: p.implementation } : {}),
          },
          { timeoutMs: PROBE_TIMEOUT_MS, signal: ctx.signal },
        );
        ctx.step('locate', 'done', `${reply.provenance.via}: ${reply.provenance.path}`);
        ctx.step('measure', 'done', `${reply.result.measurements.length} measurements (${reply.result.implementation})`);
        ctx.step('save', 'running');
        // The last check's facts hold the topology; a host never checked is asked now.
        const topology = status.info ? status.info.topology : ((await agent.rpc.call('host.info', {}, { timeoutMs: 120_000, signal: ctx.signal }).catch(() => null))?.topology ?? null);
        const link = classifyLink(topology, p.srcGpu, p.dstGpu);
        const record: FabricProbeRecord = {
          key: fabricKey(p.srcGpu, p.dstGpu, shape),
          host: p.host,
          srcGpu: p.srcGpu,
          dstGpu: p.dstGpu,
          model,
          tp,
          link,
          verdict: fabricVerdict(link, reply.result),
          provenance: reply.provenance,
          result: reply.result,
          measuredAt: new Date().toISOString(),
        };
        await this.save(record);
        ctx.step('save', 'done');
        return record;
      } finally {
        off();
        ctx.signal.removeEventListener('abort', onAbort);
      }
    });
  }

  private async save(record: FabricProbeRecord): Promise<void> {
    const run = async () => {
      const file = this.fileOf(record.host);
      const cur = await readJsonFile(file, FabricFile, () => ({ version: 1 as const, records: [] })).catch(() => ({ version: 1 as const, records: [] }));
      await writeJsonAtomic(file, { version: 1, records: [...cur.records.filter((r) => r.key !== record.key), record] });
    };
    this.writes = this.writes.then(run, run);
    await this.writes;
  }
}
