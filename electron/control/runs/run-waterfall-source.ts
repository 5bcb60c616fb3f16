import fs from 'node:fs/promises';
import path from 'node:path';
import { NixlTransferRecord } from '../../../common/kv/nixl-transfer';
import { MetricSample, RequestRecord } from '../../../common/run-record';
import type { RunDetail } from '../../../common/run-view';
import { buildRunWaterfall, RunTraceLine, type RunWaterfall } from '../../../common/waterfall';
import { RUN_FILES, type LocalRunStore } from './local-run-store';

/**
 * runs.waterfall: the per-request waterfall, the TTFT breakdown and the disaggregation check of a
 * stored run (common/waterfall.ts, docs/waterfall.md). The run's records are read once and kept for
 * the last few runs opened, without each request's chunk times (the waterfall needs only first and
 * last token), so picking another request costs no file reading.
 */

/** Written by the NIXL telemetry reader beside the other records (common/kv/nixl-transfer.ts). */
export const TRANSFERS_FILE = 'transfers.jsonl';
const CACHED_RUNS = 4;

interface Inputs {
  key: string;
  records: RequestRecord[];
  traces: RunTraceLine[];
  transfers: NixlTransferRecord[];
  samples: MetricSample[];
}

/** Worker name → URL of the deployment a run measured, when the deployment is still known. */
export type WorkerUrlLookup = (deploymentName: string) => Promise<Record<string, string>>;

export class RunWaterfallSource {
  private readonly cache: Inputs[] = [];

  constructor(
    private readonly store: LocalRunStore,
    private readonly workerUrls: WorkerUrlLookup = async () => ({}),
  ) {}

  private async key(dir: string): Promise<string> {
    const parts = await Promise.all(
      [RUN_FILES.runJson, RUN_FILES.requests, RUN_FILES.traces, RUN_FILES.samples, TRANSFERS_FILE].map(async (f) => {
        const st = await fs.stat(path.join(dir, f)).catch(() => null);
        return st ? `${Math.floor(st.mtimeMs)}.${st.size}` : '-';
      }),
    );
    return `${dir}:${parts.join(':')}`;
  }

  private async inputs(id: string, dir: string): Promise<Inputs> {
    const key = await this.key(dir);
    const hit = this.cache.find((e) => e.key === key);
    if (hit) return hit;
    const [records, traces, transfers, samples] = await Promise.all([
      this.store.readJsonl(id, RUN_FILES.requests, RequestRecord),
      this.store.readJsonl(id, RUN_FILES.traces, RunTraceLine),
      this.store.readJsonl(id, TRANSFERS_FILE, NixlTransferRecord),
      this.store.readJsonl(id, RUN_FILES.samples, MetricSample),
    ]);
    const light = records.map(({ chunkNs: _dropped, ...rest }) => rest);
    const e: Inputs = { key, records: light, traces, transfers, samples };
    this.cache.push(e);
    if (this.cache.length > CACHED_RUNS) this.cache.shift();
    return e;
  }

  async waterfall(detail: RunDetail, requestId?: string): Promise<RunWaterfall> {
    const id = detail.summary.id;
    const streaming = detail.run?.workload.streaming ?? true;
    const mode = detail.run?.deployment?.mode ?? null;
    if (!detail.dir || detail.summary.location !== 'local') {
      return buildRunWaterfall({ runId: id, streaming, mode, spec: null, records: [], traces: [], transfers: [], samples: [] });
    }
    const inp = await this.inputs(id, detail.dir);
    const depName = detail.run?.deployment?.name;
    const urls = depName ? await this.workerUrls(depName).catch(() => ({})) : {};
    return buildRunWaterfall({
      runId: id,
      streaming,
      mode,
      spec: detail.run?.spec,
      records: inp.records,
      traces: inp.traces,
      transfers: inp.transfers,
      samples: inp.samples,
      workerUrls: urls,
      ...(requestId !== undefined ? { requestId } : {}),
    });
  }
}
