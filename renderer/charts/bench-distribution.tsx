import { memo, useMemo } from 'react';
import { Bar, BarChart, CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { AXIS_TICK, BenchChartFrame, CHART_HEIGHT, CHART_MARGIN, benchColor } from './bench-chart-frame';
import { cdfPoints, histogram } from './bench-downsample';
import { unitTicks } from './bench-ticks';

export const HISTOGRAM_BINS = 40;
export const CDF_POINTS = 400;

export interface DistributionProps {
  /** Stable id for test ids: `ttft`, `itl`, `latency`. */
  metric: string;
  label: string;
  unit: string;
  /** Ascending values of the metric over the run's requests. */
  sorted: Float64Array;
  color?: string;
  /** Vertical markers, e.g. an SLO. */
  markers?: ReadonlyArray<{ x: number; label: string }>;
  /** What one value is: `requests` (default) or `sampling intervals`. */
  what?: string;
}

/** How many requests fall in each equal-width range of the metric (at most HISTOGRAM_BINS bars). */
export const HistogramChart = memo(function HistogramChart({ metric, label, unit, sorted, color = benchColor(0), markers = [], what = 'requests' }: DistributionProps) {
  const h = useMemo(() => histogram(sorted, HISTOGRAM_BINS), [sorted]);
  const domain = useMemo<[number, number]>(() => (h.bins.length ? [h.bins[0]!.x0, h.bins[h.bins.length - 1]!.x1] : [0, 1]), [h]);
  const tick = useMemo(() => unitTicks(domain[0], domain[1], unit), [domain, unit]);
  // A marker far outside the data would squeeze every bar to a hairline: it is named instead.
  const inside = markers.filter((m) => m.x >= domain[0] && m.x <= domain[1]);
  const outside = markers.filter((m) => !inside.includes(m));
  return (
    <BenchChartFrame
      id={`histogram-${metric}`}
      title={`${label}: histogram`}
      help={
        <>
          {what[0]!.toUpperCase() + what.slice(1)} per {unit} range, {h.total.toLocaleString('en-US')} {what}
          {h.overflow ? <span data-testid={`bench-chart-histogram-${metric}-overflow`}> · {h.overflow.toLocaleString('en-US')} beyond the last bar (far tail)</span> : null}
          {outside.map((m) => (
            <span key={m.label} data-testid={`bench-chart-histogram-${metric}-marker-outside`}>
              {' '}
              · {m.label} {Number(m.x.toPrecision(3))} {unit}: {m.x < domain[0] ? 'below' : 'above'} every value
            </span>
          ))}
          .
        </>
      }
      points={h.bins.length}
      empty={h.total ? null : `No ${label} values in this run.`}
    >
      <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
        <BarChart data={h.bins} margin={CHART_MARGIN} barCategoryGap={1}>
          <CartesianGrid stroke="#edf0f3" vertical={false} />
          <XAxis dataKey="x" type="number" domain={domain} tick={AXIS_TICK} tickFormatter={tick} allowDataOverflow />
          <YAxis tick={AXIS_TICK} width={46} allowDecimals={false} />
          <Tooltip isAnimationActive={false} labelFormatter={(v) => `around ${tick(Number(v))}`} />
          {inside.map((m) => (
            <ReferenceLine key={m.label} x={m.x} stroke="#c2372f" strokeDasharray="4 3" label={{ value: m.label, fontSize: 10, position: 'insideTopRight' }} />
          ))}
          <Bar dataKey="count" name="requests" fill={color} isAnimationActive={false} animationDuration={0} />
        </BarChart>
      </ResponsiveContainer>
    </BenchChartFrame>
  );
});

/** Share of requests at or below each value (at most CDF_POINTS points, evenly spaced in rank). */
export const CdfChart = memo(function CdfChart({ metric, label, unit, sorted, color = benchColor(0), markers = [] }: DistributionProps) {
  const points = useMemo(() => cdfPoints(sorted, CDF_POINTS), [sorted]);
  const tick = useMemo(() => {
    const xs = [sorted[0] ?? 0, sorted[sorted.length - 1] ?? 1, ...markers.map((m) => m.x)];
    return unitTicks(Math.min(...xs), Math.max(...xs), unit);
  }, [sorted, markers, unit]);
  return (
    <BenchChartFrame
      id={`cdf-${metric}`}
      title={`${label}: CDF`}
      help={`Share of requests that took at most this long (${unit}).`}
      points={points.length}
      empty={points.length ? null : `No ${label} values in this run.`}
    >
      <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
        <LineChart data={points} margin={CHART_MARGIN}>
          <CartesianGrid stroke="#edf0f3" />
          <XAxis dataKey="x" type="number" domain={['dataMin', 'dataMax']} tick={AXIS_TICK} tickFormatter={tick} />
          <YAxis dataKey="y" type="number" domain={[0, 100]} ticks={[0, 25, 50, 75, 90, 99, 100]} tick={AXIS_TICK} width={38} tickFormatter={(v: number) => `${v}%`} />
          <Tooltip isAnimationActive={false} labelFormatter={(v) => tick(Number(v))} formatter={(v) => (typeof v === 'number' ? `${v.toFixed(1)} %` : String(v))} />
          <ReferenceLine y={50} stroke="#c9ced6" strokeDasharray="2 3" />
          <ReferenceLine y={99} stroke="#c9ced6" strokeDasharray="2 3" />
          {markers.map((m) => (
            <ReferenceLine key={m.label} x={m.x} stroke="#c2372f" strokeDasharray="4 3" label={{ value: m.label, fontSize: 10, position: 'insideTopRight' }} ifOverflow="extendDomain" />
          ))}
          <Line dataKey="y" name="≤ value" type="stepAfter" stroke={color} strokeWidth={1.8} dot={false} activeDot={false} isAnimationActive={false} animationDuration={0} />
        </LineChart>
      </ResponsiveContainer>
    </BenchChartFrame>
  );
});
