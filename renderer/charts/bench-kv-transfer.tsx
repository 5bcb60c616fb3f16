import { memo, useMemo } from 'react';
import { CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { percentileOfSorted } from '../../common/metrics/stats';
import type { KvTransferSource, RunSeries } from '../../common/run-series';
import { AXIS_TICK, BenchChartFrame, CHART_HEIGHT, CHART_MARGIN, benchColor } from './bench-chart-frame';
import { minMaxDownsample } from './bench-downsample';
import { HistogramChart } from './bench-distribution';

const US_PER_MS = 1000;
const fmtUs = (us: number | null): string => (us === null || !Number.isFinite(us) ? '—' : us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : us >= 10 ? `${us.toFixed(1)} µs` : `${us.toFixed(2)} µs`);

/** The fabric's per-block figure; label names where it came from on the chart (e.g. "fabric ceiling (kvprobe, GPU0→1)"). */
export type KvFabricLine = NonNullable<RunSeries['fabric']> & { label?: string };

export interface KvTransferProps {
  sources: readonly KvTransferSource[];
  fabric: KvFabricLine | null;
}

/**
 * Per-block KV-transfer latency (docs/metrics.md §8): the run's figure per decode worker, its value
 * in each sampling interval over time, and the distribution over intervals, with the fabric's
 * per-block copy time as the floor NIXL should approach, when known.
 */
export const KvTransferCharts = memo(function KvTransferCharts({ sources, fabric }: KvTransferProps) {
  const fabricUs = fabric ? fabric.msPerBlock * US_PER_MS : null;
  const lines = useMemo(
    () =>
      sources.map((s, i) => ({
        source: s.source,
        color: benchColor(i),
        points: minMaxDownsample(
          s.intervals.map((iv) => iv.tS),
          s.intervals.map((iv) => iv.msPerBlock * US_PER_MS),
          300,
        ),
      })),
    [sources],
  );
  const pooled = useMemo(() => Float64Array.from(sources.flatMap((s) => s.intervals.map((iv) => iv.msPerBlock * US_PER_MS))).sort(), [sources]);
  const p50 = pooled.length ? percentileOfSorted(pooled, 50) : null;
  const p90 = pooled.length ? percentileOfSorted(pooled, 90) : null;
  const fabricLabel = fabric?.label ?? 'fabric';
  const markers = useMemo(() => (fabricUs !== null ? [{ x: fabricUs, label: fabricLabel }] : []), [fabricUs, fabricLabel]);
  const points = lines.reduce((n, l) => n + l.points.length, 0);
  const figures = (
    <div className="bench-kv-figure" data-testid="kv-transfer-figures">
      {sources.map((s) => (
        <span key={s.source} data-testid={`kv-transfer-run-${s.source}`} data-value={s.runMsPerBlock ?? ''}>
          <span className="muted">{s.source}: </span>
          <strong>{fmtUs(s.runMsPerBlock === null ? null : s.runMsPerBlock * US_PER_MS)}</strong>
          <span className="muted"> per block over the run{s.blocks !== null ? ` (${Math.round(s.blocks).toLocaleString('en-US')} blocks)` : ''}</span>
        </span>
      ))}
      {pooled.length ? (
        <span className="muted">
          intervals: p50 {fmtUs(p50)}, p90 {fmtUs(p90)} over {pooled.length} intervals
        </span>
      ) : null}
      {fabric ? (
        <span data-testid="kv-transfer-fabric" title={fabric.source} data-label={fabricLabel}>
          <span className="muted">{fabricLabel}: </span>
          <strong>{fmtUs(fabricUs)}</strong>
          <span className="muted"> ({fabric.source})</span>
        </span>
      ) : (
        <span className="muted">fabric figure unknown: measure it with kvprobe on the host</span>
      )}
    </div>
  );
  return (
    <>
      <BenchChartFrame
        id="kv-transfer"
        title="KV-transfer latency per block"
        help="Δ NIXL transfer time ÷ (Δ bytes ÷ bytes per block) in each sampling interval in which blocks moved."
        points={points}
        head={figures}
        empty={points ? null : 'No KV blocks moved between prefill and decode in this run (aggregated deployment, or no NIXL counters).'}
      >
        <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
          <LineChart margin={CHART_MARGIN}>
            <CartesianGrid stroke="#edf0f3" vertical={false} />
            <XAxis dataKey="x" type="number" domain={['dataMin', 'dataMax']} tick={AXIS_TICK} tickFormatter={(v: number) => `${Math.round(v)} s`} />
            <YAxis type="number" domain={[0, 'auto']} tick={AXIS_TICK} width={50} tickFormatter={(v: number) => fmtUs(v)} />
            <Tooltip isAnimationActive={false} formatter={(v) => (typeof v === 'number' ? fmtUs(v) : String(v))} labelFormatter={(v) => `${Number(v).toFixed(1)} s`} />
            {fabricUs !== null ? (
              <ReferenceLine y={fabricUs} stroke="#1d8a4e" strokeDasharray="5 4" ifOverflow="extendDomain" label={{ value: `${fabricLabel} ${fmtUs(fabricUs)}`, position: 'insideBottomRight', fontSize: 10, fill: '#1d8a4e' }} />
            ) : null}
            {lines.map((l) => (
              <Line key={l.source} data={l.points} dataKey="y" name={l.source} stroke={l.color} strokeWidth={1.5} dot={{ r: 1.5 }} isAnimationActive={false} animationDuration={0} />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </BenchChartFrame>
      {pooled.length ? <HistogramChart metric="kv-transfer" label="KV transfer per block" unit="µs" sorted={pooled} color={benchColor(2)} markers={markers} what="sampling intervals" /> : null}
    </>
  );
});
