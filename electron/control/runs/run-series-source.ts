import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { NixlTransferRecord } from '../../../common/kv/nixl-transfer';
import { buildNixlTransferSeries } from '../../../common/kv/nixl-transfer-series';
import { MetricSample, RequestRecord } from '../../../common/run-record';
import { buildRunSeries, decodeRequestColumns, packRunSeries, PackedRunSeries, type RequestColumns, type RunSeries } from '../../../common/run-series';
import type { RunDetail } from '../../../common/run-view';
import { RUN_FILES, type LocalRunStore } from './local-run-store';

/**
 * runs.series: the run view's chart data (common/run-series.ts) from a stored run. Reading the
 * records of a 100,000-request run takes tens of seconds (its requests.jsonl holds every chunk
 * time, ~300 MB), so the result is computed once: kept in memory for recently opened runs and in
 * the run directory as `series.json` (packed columns, a few MB), both keyed by the modification
 * times of the files it comes from.
 */

/** reference/build-machine.md: a 2 MiB Llama-8B KV block in ~5.6 µs on H100 NVLink when one kernel gathers it; the mocker's default. */
const MOCKER_FABRIC_US_PER_2MIB = 5.6;
const CACHED_RUNS = 8;
export const SERIES_CACHE_FILE = 'series.json';

const CacheFile = z.object({ schema: z.literal(1), key: z.string(), series: PackedRunSeries });

interface Entry {
  key: string;
  packed: PackedRunSeries;
  series: RunSeries | null;
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

/** Packed columns back to arrays (null where a value does not exist), for controller-side users such as reports. */
function unpack(p: PackedRunSeries): RunSeries {
  if (!p.requests) return { ...p, requests: null };
  const d = decodeRequestColumns(p.requests);
  const arr = (a: Float32Array) => Array.from(a, (v) => (Number.isFinite(v) ? v : null));
  const requests: RequestColumns = {
    count: d.count,
    sendS: Array.from(d.sendS),
    ttftMs: arr(d.ttftMs),
    itlMs: arr(d.itlMs),
    latencyMs: arr(d.latencyMs),
    isl: arr(d.isl),
    osl: arr(d.osl),
    failed: Array.from(d.failed, (v) => (v ? 1 : 0)),
  };
  return { ...p, requests };
}

export class RunSeriesSource {
  private readonly cache: Entry[] = [];

  constructor(private readonly store: LocalRunStore) {}

  private async fileKey(dir: string): Promise<string> {
    const stat = async (rel: string) => {
      const st = await fs.stat(path.join(dir, rel)).catch(() => null);
      return st ? `${Math.floor(st.mtimeMs)}.${st.size}` : '-';
    };
    return `${await stat(RUN_FILES.runJson)}:${await stat(RUN_FILES.requests)}:${await stat(RUN_FILES.samples)}:${await stat(RUN_FILES.summary)}:${await stat(RUN_FILES.transfers)}`;
  }

  private remember(id: string, e: Entry): Entry {
    this.forget(id);
    this.cache.push(e);
    if (this.cache.length > CACHED_RUNS) this.cache.shift();
    return e;
  }

  private async entry(detail: RunDetail): Promise<Entry> {
    const id = detail.summary.id;
    const streaming = detail.run?.workload.streaming ?? true;
    if (!detail.dir || detail.summary.location !== 'local') {
      const empty: RunSeries = { runId: id, streaming, requests: null, timeSeries: [], kvTransfer: [], fabric: null };
      return { key: '', packed: packRunSeries(empty), series: empty };
    }
    const key = `${id}:${await this.fileKey(detail.dir)}`;
    const hit = this.cache.find((e) => e.key === key);
    if (hit) return hit;
    const file = path.join(detail.dir, SERIES_CACHE_FILE);
    const onDisk = await fs
      .readFile(file, 'utf8')
      .then((t) => CacheFile.safeParse(JSON.parse(t)))
      .catch(() => null);
    if (onDisk?.success && onDisk.data.key === key) return this.remember(id, { key, packed: onDisk.data.series, series: null });

    const [records, samples, transfers] = await Promise.all([
      this.store.readJsonl(id, RUN_FILES.requests, RequestRecord),
      this.store.readJsonl(id, RUN_FILES.samples, MetricSample),
      this.store.readJsonl(id, RUN_FILES.transfers, NixlTransferRecord),
    ]);
    const kv = detail.kvTransfer as Array<{ bytesPerBlock?: number } | null>;
    const series = buildRunSeries({
      runId: id,
      streaming,
      records,
      samples,
      summaryKvTransfer: detail.kvTransfer,
      fabric: mockerFabric(detail, kv.find((k) => typeof k?.bytesPerBlock === 'number')?.bytesPerBlock),
    });
    if (transfers.length) series.nixlTransfers = buildNixlTransferSeries(transfers);
    const packed = packRunSeries(series);
    // Written beside the records (temp + rename, so a reader never sees half of it); a failure only costs the next open.
    const tmp = `${file}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
    await fs
      .writeFile(tmp, JSON.stringify({ schema: 1, key, series: packed }))
      .then(() => fs.rename(tmp, file))
      .catch(() => fs.rm(tmp, { force: true }).catch(() => undefined));
    return this.remember(id, { key, packed, series });
  }

  /** As the renderer gets it: request columns packed (runs.series). */
  async packed(detail: RunDetail): Promise<PackedRunSeries> {
    return (await this.entry(detail)).packed;
  }

  /** With plain arrays, for the controller's own users (reports). */
  async series(detail: RunDetail): Promise<RunSeries> {
    const e = await this.entry(detail);
    e.series ??= unpack(e.packed);
    return e.series;
  }

  forget(id: string): void {
    for (let i = this.cache.length - 1; i >= 0; i--) if (this.cache[i]!.key.startsWith(`${id}:`)) this.cache.splice(i, 1);
  }
}
