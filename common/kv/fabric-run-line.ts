import type { RunJson } from '../run-record';
import type { KvTransferSource, RunSeries } from '../run-series';
import { kvGpuPairs, matchFabricReference, specKvInstances, type KvGpuPair } from './fabric-match';
import type { FabricProbeRecord } from './fabric-probe';

/** The reference line of a run's per-block chart: the run view and the exported report draw the same one. */
export type RunFabricLine = NonNullable<RunSeries['fabric']> & { label?: string };

/** The GPU pairs a run moved KV over, from the spec it recorded. */
export function runKvPairs(run: RunJson | null): KvGpuPair[] {
  if (!run) return [];
  const { prefill, decode } = specKvInstances(run.spec, run.hosts[0]?.name ?? 'this-computer');
  return kvGpuPairs(prefill, decode);
}

/** Hosts whose stored fabric results can match the run (both GPUs of a pair on one host). */
export function runFabricHosts(run: RunJson | null): string[] {
  return [...new Set(runKvPairs(run).filter((p) => !p.crossHost).map((p) => p.srcHost))];
}

/**
 * A real run gets the fabric figure stored with its host for a GPU pair it used and its bytes per
 * block (kvprobe, gather mode); a simulated run keeps the figure the mocker modelled, which is what
 * its transfers actually followed.
 */
export function runFabricLine(run: RunJson | null, sources: readonly KvTransferSource[], modelled: RunSeries['fabric'], records: readonly FabricProbeRecord[]): RunFabricLine | null {
  if (!run || run.simulated) return modelled;
  const bytes = sources.find((s) => s.bytesPerBlock > 0)?.bytesPerBlock ?? null;
  const ref = matchFabricReference(runKvPairs(run), bytes, records);
  return ref ? { msPerBlock: ref.usPerBlock / 1000, source: ref.source, label: ref.label } : modelled;
}
