import { memo, useMemo } from 'react';
import { CartesianGrid, LabelList, Legend, Line, LineChart, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from 'recharts';
import { AXIS_TICK, BenchChartFrame, CHART_HEIGHT, CHART_MARGIN, benchColor } from './bench-chart-frame';
import { paretoFrontier } from './bench-downsample';

export interface SweepPoint {
  runId: string;
  /** Concurrency or request rate of the point. */
  load: number;
  outputTokensPerS: number | null;
  requestsPerS: number | null;
  /** Median decode speed one user sees (1 ÷ ITL). */
  tokensPerSPerUser: number | null;
  /** Output tokens/s ÷ GPUs; null when the GPU count is unknown. */
  tokensPerSPerGpu: number | null;
}

const tick = (v: number): string => (Math.abs(v) >= 10_000 ? `${(v / 1000).toFixed(0)}k` : Math.abs(v) >= 100 ? String(Math.round(v)) : v.toFixed(1));

/** Output tokens/s (left) and requests/s (right) at each load point of a sweep. */
export const SweepThroughputChart = memo(function SweepThroughputChart({ points, loadLabel }: { points: readonly SweepPoint[]; loadLabel: string }) {
  const data = useMemo(() => [...points].sort((a, b) => a.load - b.load), [points]);
  const ticks = useMemo(() => data.map((p) => p.load), [data]);
  return (
    <BenchChartFrame
      id="sweep-throughput"
      title={`Throughput vs ${loadLabel}`}
      help="Output tokens/s and requests/s of each run of the sweep."
      points={data.length * 2}
      empty={data.length ? null : 'No finished runs in this sweep yet.'}
    >
      <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
        <LineChart data={data} margin={CHART_MARGIN}>
          <CartesianGrid stroke="#edf0f3" />
          <XAxis dataKey="load" type="number" domain={['dataMin', 'dataMax']} ticks={ticks} tick={AXIS_TICK} />
          <YAxis yAxisId="tok" tick={AXIS_TICK} tickFormatter={tick} width={48} />
          <YAxis yAxisId="req" orientation="right" tick={AXIS_TICK} tickFormatter={tick} width={40} />
          <Tooltip isAnimationActive={false} />
          <Legend wrapperStyle={{ fontSize: 11 }} />
          <Line yAxisId="tok" dataKey="outputTokensPerS" name="output tokens/s" stroke={benchColor(0)} strokeWidth={1.8} dot={{ r: 3 }} isAnimationActive={false} animationDuration={0} />
          <Line yAxisId="req" dataKey="requestsPerS" name="requests/s" stroke={benchColor(1)} strokeWidth={1.8} dot={{ r: 3 }} isAnimationActive={false} animationDuration={0} />
        </LineChart>
      </ResponsiveContainer>
    </BenchChartFrame>
  );
});

/**
 * Tokens/s per GPU against tokens/s per user, one dot per load point, with the Pareto frontier:
 * the points where no other load gives both more throughput per GPU and faster decoding per user.
 */
export const ParetoChart = memo(function ParetoChart({ points, loadLabel }: { points: readonly SweepPoint[]; loadLabel: string }) {
  const perGpu = points.every((p) => p.tokensPerSPerGpu !== null);
  const xy = useMemo(
    () =>
      points
        .filter((p) => p.tokensPerSPerUser !== null && (perGpu ? p.tokensPerSPerGpu : p.outputTokensPerS) !== null)
        .map((p) => ({ x: p.tokensPerSPerUser!, y: (perGpu ? p.tokensPerSPerGpu : p.outputTokensPerS)!, load: p.load })),
    [points, perGpu],
  );
  const front = useMemo(() => paretoFrontier(xy), [xy]);
  const yLabel = perGpu ? 'tokens/s/GPU' : 'tokens/s';
  return (
    <BenchChartFrame
      id="sweep-pareto"
      title="Throughput per GPU vs speed per user"
      help={`Each dot is one load point (labelled with its ${loadLabel}); the line joins the points no other point beats on both axes.${perGpu ? '' : ' GPU count unknown: the y axis is output tokens/s.'}`}
      points={xy.length + front.length}
      empty={xy.length ? null : 'Needs streamed runs with finished requests (tokens/s per user comes from ITL).'}
    >
      <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
        <ScatterChart margin={CHART_MARGIN}>
          <CartesianGrid stroke="#edf0f3" />
          <XAxis dataKey="x" type="number" name="tokens/s/user" domain={['auto', 'auto']} tick={AXIS_TICK} tickFormatter={tick} label={{ value: 'output tokens/s per user', position: 'insideBottom', offset: -8, fontSize: 10 }} />
          <YAxis dataKey="y" type="number" name={yLabel} domain={['auto', 'auto']} tick={AXIS_TICK} tickFormatter={tick} width={48} label={{ value: yLabel, angle: -90, position: 'insideLeft', fontSize: 10 }} />
          <Tooltip isAnimationActive={false} cursor={false} />
          <Scatter name="frontier" data={front} line={{ stroke: benchColor(2), strokeWidth: 1.5 }} fill={benchColor(2)} shape="circle" isAnimationActive={false} animationDuration={0} />
          <Scatter name="load points" data={xy} fill={benchColor(0)} shape="circle" isAnimationActive={false} animationDuration={0}>
            <LabelList dataKey="load" position="top" fontSize={10} />
          </Scatter>
        </ScatterChart>
      </ResponsiveContainer>
    </BenchChartFrame>
  );
});
