import { memo, useMemo } from 'react';
import { CartesianGrid, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from 'recharts';
import { AXIS_TICK, BenchChartFrame, CHART_HEIGHT, CHART_MARGIN, benchColor } from './bench-chart-frame';
import { thinScatter } from './bench-downsample';

/** Most points a scatter draws: SVG circles get slow past a few thousand (reference/desktop.md §5.2). */
export const SCATTER_MAX_POINTS = 2000;

export interface RequestScatterProps {
  id: string;
  title: string;
  help: string;
  xs: ArrayLike<number | null>;
  ys: ArrayLike<number | null>;
  xLabel: string;
  yLabel: string;
}

const tick = (v: number): string => (Math.abs(v) >= 10_000 ? `${(v / 1000).toFixed(0)}k` : Math.abs(v) >= 100 ? String(Math.round(v)) : v.toFixed(1));

/** One dot per request (thinned to SCATTER_MAX_POINTS, isolated outliers always kept). */
export const RequestScatter = memo(function RequestScatter({ id, title, help, xs, ys, xLabel, yLabel }: RequestScatterProps) {
  const t = useMemo(() => thinScatter(xs, ys, SCATTER_MAX_POINTS), [xs, ys]);
  const note = t.points.length < t.total ? ` Showing ${t.points.length.toLocaleString('en-US')} of ${t.total.toLocaleString('en-US')} requests: one per small cell, outliers kept.` : '';
  return (
    <BenchChartFrame id={id} title={title} help={`${help}${note}`} points={t.points.length} empty={t.total ? null : 'No request has both values.'}>
      <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
        <ScatterChart margin={CHART_MARGIN}>
          <CartesianGrid stroke="#edf0f3" />
          <XAxis dataKey="x" type="number" name={xLabel} domain={['auto', 'auto']} tick={AXIS_TICK} tickFormatter={tick} label={{ value: xLabel, position: 'insideBottom', offset: -8, fontSize: 10 }} />
          <YAxis dataKey="y" type="number" name={yLabel} domain={['auto', 'auto']} tick={AXIS_TICK} tickFormatter={tick} width={46} label={{ value: yLabel, angle: -90, position: 'insideLeft', fontSize: 10 }} />
          <Tooltip isAnimationActive={false} cursor={false} />
          <Scatter data={t.points} fill={benchColor(0)} fillOpacity={0.55} shape="circle" isAnimationActive={false} animationDuration={0} />
        </ScatterChart>
      </ResponsiveContainer>
    </BenchChartFrame>
  );
});
