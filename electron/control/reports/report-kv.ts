import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { FabricProbeRecord } from '../../../common/kv/fabric-probe';
import { runFabricHosts, runFabricLine, type RunFabricLine } from '../../../common/kv/fabric-run-line';
import type { RunJson } from '../../../common/run-record';
import type { RunSeries } from '../../../common/run-series';
import type { RunDetail } from '../../../common/run-view';
import { RunWaterfall } from '../../../common/waterfall';
import { RUN_FILES } from '../runs/local-run-store';

/** The report's part of runs.waterfall, kept in the run dir: a later export of the run reads no records. */
export const REPORT_WATERFALL_CACHE_FILE = 'report-waterfall.json';
const CacheFile = z.object({ key: z.string(), waterfall: RunWaterfall });

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
  const waterfall = src.waterfall && detail.run ? await cachedWaterfall(detail, src.waterfall).catch(() => null) : null;
  const hosts = run.simulated || !src.fabricRecords ? [] : runFabricHosts(run);
  const records = (await Promise.all(hosts.map((h) => src.fabricRecords!(h).catch(() => [] as FabricProbeRecord[])))).flat();
  const fabricLine = series ? runFabricLine(run, series.kvTransfer, series.fabric, records) : null;
  return { waterfall: waterfall && waterfall.requests > 0 ? waterfall : null, fabricLine };
}

/**
 * runs.waterfall cut to what a report draws (no request picker, no chosen request), cached beside
 * the records under a key of their sizes and times, as runs.series caches its columns.
 */
async function cachedWaterfall(detail: RunDetail, load: (detail: RunDetail) => Promise<RunWaterfall>): Promise<RunWaterfall> {
  const dir = detail.dir;
  if (!dir || detail.summary.location !== 'local') return load(detail);
  const parts = await Promise.all(
    [RUN_FILES.runJson, RUN_FILES.requests, RUN_FILES.traces, RUN_FILES.samples, RUN_FILES.transfers].map(async (f) => {
      const st = await fs.stat(path.join(dir, f)).catch(() => null);
      return st ? `${Math.floor(st.mtimeMs)}.${st.size}` : '-';
    }),
  );
  const key = parts.join(':');
  const file = path.join(dir, REPORT_WATERFALL_CACHE_FILE);
  const hit = await fs
    .readFile(file, 'utf8')
    .then((t) => CacheFile.safeParse(JSON.parse(t)))
    .catch(() => null);
  if (hit?.success && hit.data.key === key) return hit.data.waterfall;
  const waterfall: RunWaterfall = { ...(await load(detail)), points: [], request: null };
  // Temp + rename: two exports at once never read half a file. A run dir that is read-only just goes uncached.
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await fs
    .writeFile(tmp, JSON.stringify({ key, waterfall }))
    .then(() => fs.rename(tmp, file))
    .catch(() => fs.rm(tmp, { force: true }));
  return waterfall;
}
