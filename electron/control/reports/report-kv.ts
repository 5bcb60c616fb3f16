import type { FabricProbeRecord } from '../../../common/kv/fabric-probe';
import { runFabricHosts, runFabricLine, type RunFabricLine } from '../../../common/kv/fabric-run-line';
import type { RunJson } from '../../../common/run-record';
import type { RunSeries } from '../../../common/run-series';
import type { RunDetail } from '../../../common/run-view';
import type { RunWaterfall } from '../../../common/waterfall';

/** Where the report gets what the run view loads beside runs.series (the controller passes its services). */
export interface ReportKvSources {
  /** runs.waterfall of a run. */
  waterfall?: (detail: RunDetail) => Promise<RunWaterfall>;
  /** hosts.fabric: the fabric results stored with a host. */
  fabricRecords?: (host: string) => Promise<readonly FabricProbeRecord[]>;
}

/**
 * The KV-insight parts of a run's report: its waterfall (TTFT breakdown, disaggregation check) and
 * the per-block chart's fabric line, picked by the same function as the run view. A source that
 * fails leaves its part out rather than failing the export: a host's fabric file may be unreadable.
 */
export async function reportKvExtras(run: RunJson, detail: RunDetail, series: RunSeries | null, src: ReportKvSources): Promise<{ waterfall: RunWaterfall | null; fabricLine: RunFabricLine | null }> {
  const waterfall = src.waterfall && detail.run ? await src.waterfall(detail).catch(() => null) : null;
  const hosts = run.simulated || !src.fabricRecords ? [] : runFabricHosts(run);
  const records = (await Promise.all(hosts.map((h) => src.fabricRecords!(h).catch(() => [] as FabricProbeRecord[])))).flat();
  const fabricLine = series ? runFabricLine(run, series.kvTransfer, series.fabric, records) : null;
  return { waterfall: waterfall && waterfall.requests > 0 ? waterfall : null, fabricLine };
}
