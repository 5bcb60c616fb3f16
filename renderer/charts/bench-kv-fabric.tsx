import { useEffect, useMemo } from 'react';
import { kvGpuPairs, matchFabricReference, specKvInstances, type KvGpuPair } from '../../common/kv/fabric-match';
import type { FabricProbeRecord } from '../../common/kv/fabric-probe';
import type { RunJson } from '../../common/run-record';
import type { KvTransferSource, RunSeries } from '../../common/run-series';
import { useApp } from '../store/app-store';
import { KvTransferCharts, type KvFabricLine } from './bench-kv-transfer';

/** The GPU pairs a run moved KV over, from the spec it recorded. */
export function runKvPairs(run: RunJson | null): KvGpuPair[] {
  if (!run) return [];
  const { prefill, decode } = specKvInstances(run.spec, run.hosts[0]?.name ?? 'this-computer');
  return kvGpuPairs(prefill, decode);
}

/**
 * The reference line of a run's per-block chart. A real run gets the fabric figure stored with its
 * host for a GPU pair it used and its bytes per block (kvprobe, gather mode); a simulated run keeps
 * the figure the mocker modelled, which is what its transfers actually followed.
 */
export function runFabricLine(run: RunJson | null, sources: readonly KvTransferSource[], modelled: RunSeries['fabric'], records: readonly FabricProbeRecord[]): KvFabricLine | null {
  if (!run || run.simulated) return modelled;
  const bytes = sources.find((s) => s.bytesPerBlock > 0)?.bytesPerBlock ?? null;
  const ref = matchFabricReference(runKvPairs(run), bytes, records);
  return ref ? { msPerBlock: ref.usPerBlock / 1000, source: ref.source, label: ref.label } : modelled;
}

/** KvTransferCharts with the fabric reference of the run's hosts, loaded from the controller. */
export function RunKvTransferCharts({ run, series }: { run: RunJson | null; series: Pick<RunSeries, 'kvTransfer' | 'fabric'> }) {
  const pairs = useMemo(() => runKvPairs(run), [run]);
  const hosts = [...new Set(pairs.filter((p) => !p.crossHost).map((p) => p.srcHost))].join(',');
  const byHost = useApp((s) => s.fabricRecords);
  const loadFabric = useApp((s) => s.loadFabric);
  const real = run !== null && !run.simulated;
  useEffect(() => {
    if (real) for (const h of hosts ? hosts.split(',') : []) void loadFabric(h);
  }, [real, hosts, loadFabric]);
  const fabric = useMemo(() => {
    const records = (hosts ? hosts.split(',') : []).flatMap((h) => byHost[h] ?? []);
    return runFabricLine(run, series.kvTransfer, series.fabric, records);
  }, [run, series.kvTransfer, series.fabric, hosts, byHost]);
  return <KvTransferCharts sources={series.kvTransfer} fabric={fabric} />;
}
