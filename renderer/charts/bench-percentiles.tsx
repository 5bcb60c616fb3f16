import { memo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { AXIS_TICK, BenchChartFrame, CHART_HEIGHT, CHART_MARGIN, benchColor } from './bench-chart-frame';
import { unitTicks } from './bench-ticks';

const PCTS = ['p1', 'p5', 'p10', 'p25', 'p50', 'p75', 'p90', 'p95', 'p99'] as const;

export interface PercentileLine {
  /** A stable key: recharts recomputes every point when a dataKey changes (reference/desktop.md §5.2). */
  key: 'ttft' | 'itl' | 'latency';
  label: string;
  stats: Record<string, number> | undefined;
}


/**
 * TTFT (left axis) and ITL (right axis) at p1…p99 of one run, from the run's statistics (numpy
 * linear percentiles, docs/metrics.md §5). Two axes because TTFT is hundreds of ms and ITL a few.
 */
export const PercentileChart = memo(function PercentileChart({ lines, id = 'percentiles' }: { lines: readonly PercentileLine[]; id?: string }) {
  const present = lines.filter((l) => l.stats && PCTS.some((p) => l.stats![p] !== undefined));
  // Nine rows: cheaper to rebuild than to memoise; the component itself is memoised on `lines`.
  const data = PCTS.map((p) => {
    const row: Record<string, number | string | null> = { p };
    for (const l of present) row[l.key] = l.stats?.[p] ?? null;
    return row;
  });
  const points = present.length * PCTS.length;
  return (
    <BenchChartFrame
      id={id}
      title="TTFT and ITL percentiles"
      help="Each request weighs one; p50 is the median request, p99 the slowest 1%."
      points={points}
      empty={present.length ? null : 'No TTFT or ITL: the run was not streamed, so the first response is the whole answer.'}
    >
      <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
        <LineChart data={data} margin={CHART_MARGIN}>
          <CartesianGrid stroke="#edf0f3" vertical={false} />
          <XAxis dataKey="p" tick={AXIS_TICK} />
          {present.map((l, i) => (
            <YAxis
              key={l.key}
              yAxisId={l.key}
              orientation={i === 0 ? 'left' : 'right'}
              tick={AXIS_TICK}
              tickFormatter={unitTicks(0, Math.max(0, ...PCTS.map((p) => l.stats?.[p] ?? 0)), 'ms')}
              width={54}
              label={{ value: l.label, angle: -90, position: i === 0 ? 'insideLeft' : 'insideRight', fontSize: 10, fill: benchColor(i) }}
            />
          ))}
          <Tooltip isAnimationActive={false} formatter={(v) => (typeof v === 'number' ? `${v.toFixed(2)} ms` : String(v))} />
          <Legend wrapperStyle={{ fontSize: 11 }} />
          {present.map((l, i) => (
            <Line key={l.key} yAxisId={l.key} dataKey={l.key} name={l.label} stroke={benchColor(i)} strokeWidth={1.8} dot={{ r: 2 }} isAnimationActive={false} animationDuration={0} />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </BenchChartFrame>
  );
});
