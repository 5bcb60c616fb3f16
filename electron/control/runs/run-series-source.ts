import fs from 'node:fs/promises';
import path from 'node:path';
import { MetricSample, RequestRecord } from '../../../common/run-record';
import { buildRunSeries, type RunSeries } from '../../../common/run-series';
import type { RunDetail } from '../../../common/run-view';
import { RUN_FILES, type LocalRunStore } from './local-run-store';

/**
 * runs.series: the run view's chart data (common/run-series.ts) from a stored run. Reading the
 * records of a 100,000-request run takes seconds (its requests.jsonl holds every chunk time), so
 * the result is kept per run while its files stay unchanged, and the view opens at once the next
 * time.
 */

/** reference/build-machine.md: a 2 MiB Llama-8B KV block in ~5.6 µs on H100 NVLink when one kernel gathers it; the mocker's default. */
const MOCKER_FABRIC_US_PER_2MIB = 5.6;
const CACHED_RUNS = 8;

interface Entry {
  key: string;
  series: RunSeries;
}

/** The mocker models transfers with the fabric figure unless the spec tunes its latency model. */
function mockerFabric(detail: RunDetail, bytesPerBlock: number | undefined): RunSeries['fabric'] {
  if (!detail.run?.simulated || !bytesPerBlock) return null;
  const spec = detail.run.spec as { mocker?: { profile?: unknown; options?: Record<string, unknown> } } | undefined;
  const tuned = spec?.mocker?.profile !== undefined || Object.keys(spec?.mocker?.options ?? {}).some((k) => /transfer/i.test(k));
  if (tuned) return null;
  return {
    msPerBlock: (MOCKER_FABRIC_US_PER_2MIB * (bytesPerBlock / (2 * 1024 * 1024))) / 1e3,
    source: 'fabric figure the mocker models (5.6 µs per 2 MiB block, H100 NVLink)',
  };
}

export class RunSeriesSource {
  private readonly cache: Entry[] = [];

  constructor(private readonly store: LocalRunStore) {}

  private async fileKey(dir: string): Promise<string> {
    const stat = async (rel: string) => (await fs.stat(path.join(dir, rel)).catch(() => null))?.mtimeMs ?? 0;
    return `${await stat(RUN_FILES.runJson)}:${await stat(RUN_FILES.requests)}:${await stat(RUN_FILES.samples)}:${await stat(RUN_FILES.summary)}`;
  }

  /** `detail` is runs.get's answer for the run (it resolves the id and reads summary.json). */
  async series(detail: RunDetail): Promise<RunSeries> {
    const id = detail.summary.id;
    const streaming = detail.run?.workload.streaming ?? true;
    if (!detail.dir || detail.summary.location !== 'local') {
      return { runId: id, streaming, requests: null, timeSeries: [], kvTransfer: [], fabric: null };
    }
    const key = `${id}:${await this.fileKey(detail.dir)}`;
    const hit = this.cache.find((e) => e.key === key);
    if (hit) return hit.series;
    const [records, samples] = await Promise.all([
      this.store.readJsonl(id, RUN_FILES.requests, RequestRecord),
      this.store.readJsonl(id, RUN_FILES.samples, MetricSample),
    ]);
    const kv = detail.kvTransfer as Array<{ bytesPerBlock?: number }>;
    const series = buildRunSeries({
      runId: id,
      streaming,
      records,
      samples,
      summaryKvTransfer: detail.kvTransfer,
      fabric: mockerFabric(detail, kv.find((k) => typeof k?.bytesPerBlock === 'number')?.bytesPerBlock),
    });
    const stale = this.cache.findIndex((e) => e.key.startsWith(`${id}:`));
    if (stale >= 0) this.cache.splice(stale, 1);
    this.cache.push({ key, series });
    if (this.cache.length > CACHED_RUNS) this.cache.shift();
    return series;
  }

  forget(id: string): void {
    for (let i = this.cache.length - 1; i >= 0; i--) if (this.cache[i]!.key.startsWith(`${id}:`)) this.cache.splice(i, 1);
  }
}
