import { useEffect, useMemo } from 'react';
import { runFabricHosts, runFabricLine, runKvPairs } from '../../common/kv/fabric-run-line';
import type { RunJson } from '../../common/run-record';
import type { RunSeries } from '../../common/run-series';
import { useApp } from '../store/app-store';
import { KvTransferCharts } from './bench-kv-transfer';

export { runFabricLine, runKvPairs };

/** KvTransferCharts with the fabric reference of the run's hosts, loaded from the controller. */
export function RunKvTransferCharts({ run, series }: { run: RunJson | null; series: Pick<RunSeries, 'kvTransfer' | 'fabric'> }) {
  const hosts = useMemo(() => runFabricHosts(run).join(','), [run]);
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
