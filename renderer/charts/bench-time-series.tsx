import { memo, useMemo } from 'react';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { RunTimeSeries } from '../../common/run-series';
import { AXIS_TICK, BenchChartFrame, BenchLegend, CHART_HEIGHT, CHART_MARGIN, benchColor } from './bench-chart-frame';
import { minMaxDownsample, type XY } from './bench-downsample';

/** Buckets per line; min/max keeps two points each, so at most 600 points a line. */
export const SERIES_BUCKETS = 300;

const HELP: Record<RunTimeSeries['id'], string> = {
  queue: 'Requests in each worker\'s batch (running) and queued for it (waiting), from its /metrics during the run.',
  'kv-cache': 'Share of each worker\'s KV-cache blocks in use.',
  'gpu-util': 'nvidia-smi utilisation of each GPU, sampled every second.',
};

const tickS = (v: number): string => `${Math.round(v)} s`;

/** One sampled series chart: each line downsampled with min/max per time bucket so spikes stay. */
export const RunSeriesChart = memo(function RunSeriesChart({ series }: { series: RunTimeSeries }) {
  const lines = useMemo(
    () =>
      series.lines.map((l, i) => ({
        label: l.label,
        color: benchColor(i),
        points: minMaxDownsample(l.tS, l.v, SERIES_BUCKETS) as XY[],
        peak: l.v.reduce((m, v) => Math.max(m, v), -Infinity),
      })),
    [series],
  );
  const points = lines.reduce((n, l) => n + l.points.length, 0);
  const yDomain = useMemo<[number, number | 'auto']>(() => [0, series.unit === '%' ? 100 : 'auto'], [series.unit]);
  const fmt = (v: number): string => (series.unit === '%' ? `${v.toFixed(0)} %` : v.toFixed(v >= 10 ? 0 : 1));
  return (
    <BenchChartFrame
      id={`series-${series.id}`}
      title={series.title}
      help={HELP[series.id]}
      points={points}
      head={<BenchLegend items={lines.map((l) => ({ label: l.label, color: l.color, value: `peak ${Number.isFinite(l.peak) ? fmt(l.peak) : '—'}` }))} />}
    >
      <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
        <LineChart margin={CHART_MARGIN}>
          <CartesianGrid stroke="#edf0f3" vertical={false} />
          <XAxis dataKey="x" type="number" domain={['dataMin', 'dataMax']} tick={AXIS_TICK} tickFormatter={tickS} allowDuplicatedCategory={false} />
          <YAxis type="number" domain={yDomain} tick={AXIS_TICK} width={42} tickFormatter={fmt} />
          <Tooltip isAnimationActive={false} labelFormatter={(v) => `${Number(v).toFixed(1)} s`} formatter={(v) => (typeof v === 'number' ? fmt(v) : String(v))} />
          {lines.map((l) => (
            <Line key={l.label} data={l.points} dataKey="y" name={l.label} type="linear" stroke={l.color} strokeWidth={1.5} dot={false} activeDot={false} isAnimationActive={false} animationDuration={0} />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </BenchChartFrame>
  );
});
