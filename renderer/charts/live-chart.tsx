import { memo, useMemo } from 'react';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, XAxis, YAxis } from 'recharts';
import type { ChartDef } from './chart-defs';
import { formatAxis, formatCompact } from './chart-defs';
import type { DeploymentSeries } from './deployment-series';
import { lttb, type Point } from './downsample';

/** About two points per horizontal pixel of a chart tile (reference/desktop.md §5.2). */
export const MAX_POINTS_PER_LINE = 600;

export interface ChartLine {
  label: string;
  color: string;
  points: Point[];
  latest: number | null;
}

/**
 * The window of every line of a chart, downsampled and scaled. The x range ends at the newest
 * sample (the host's clock, not this computer's) and starts no earlier than the first one, so a
 * young deployment fills the plot.
 */
export function chartLines(def: ChartDef, series: DeploymentSeries | undefined, windowMs: number): { lines: ChartLine[]; from: number; to: number } {
  const to = series?.lastAtMs ?? 0;
  const from = Math.max(to - windowMs, series?.firstAtMs ?? to - windowMs);
  const lines = def.lines.map((l) => {
    const ring = series?.get(l.series);
    const scale = l.scale ?? 1;
    if (!ring) return { label: l.label, color: l.color, points: [], latest: null };
    const { t, v } = ring.since(from);
    if (scale !== 1) for (let i = 0; i < v.length; i++) v[i] = v[i]! * scale;
    const last = ring.lastValue();
    return { label: l.label, color: l.color, points: lttb(t, v, MAX_POINTS_PER_LINE), latest: last === null ? null : last * scale };
  });
  return { lines, from, to };
}

/** Evenly spaced time ticks: recharts' own choice bunches up on a time scale with a moving domain. */
export function timeTicks(from: number, to: number, count = 5): number[] {
  if (!(to > from)) return [to];
  const step = (to - from) / (count - 1);
  return Array.from({ length: count }, (_, i) => Math.round(from + i * step));
}

const timeTick = (t: number): string => {
  const d = new Date(t);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}:${String(d.getSeconds()).padStart(2, '0')}`;
};

export interface LiveChartProps {
  def: ChartDef;
  series: DeploymentSeries | undefined;
  windowMs: number;
  /** The store's throttled chartsVersion: a new value means new samples to draw. */
  version: number;
}

/**
 * One live line chart: no animation, no dots, numeric time axis, each line downsampled on its
 * own (reference/desktop.md §5.2). Memoised so only charts whose inputs moved re-render.
 */
export const LiveChart = memo(function LiveChart({ def, series, windowMs, version }: LiveChartProps) {
  // `version` stands for the ring buffers' contents, which change in place.
  const { lines, from, to } = useMemo(() => chartLines(def, series, windowMs), [def, series, windowMs, version]);
  const points = lines.reduce((n, l) => n + l.points.length, 0);
  const yDomain = useMemo<[number, number | 'auto']>(() => [0, def.yMax ?? 'auto'], [def.yMax]);
  const xDomain = useMemo<[number, number]>(() => [from, to], [from, to]);
  const xTicks = useMemo(() => timeTicks(from, to), [from, to]);
  const yTick = useMemo(() => (v: number) => formatAxis(v, def.unit), [def.unit]);
  return (
    <section className="chart" data-testid={`chart-${def.id}`} data-points={points} aria-label={def.title}>
      <header className="chart-head">
        <h3 className="chart-title">{def.title}</h3>
        <span className="chart-unit muted">{def.unit}</span>
      </header>
      <p className="chart-help muted">{def.help}</p>
      {def.notApplicable ? (
        <div className="chart-empty" data-testid={`chart-${def.id}-na`}>
          {def.notApplicable}
        </div>
      ) : (
        <>
          <ul className="chart-latest">
            {lines.map((l) => (
              <li key={l.label}>
                <span className="chart-swatch" style={{ background: l.color }} aria-hidden="true" />
                <span className="muted">{l.label}</span>{' '}
                <span className="mono chart-value" data-testid={`chart-${def.id}-latest-${l.label.replace(/\s+/g, '-')}`}>
                  {formatCompact(l.latest, def.unit)}
                </span>
              </li>
            ))}
          </ul>
          <div className="chart-plot">
            {points === 0 ? (
              <div className="chart-empty chart-empty-overlay" data-testid={`chart-${def.id}-empty`}>
                {series && series.samples > 0 ? (def.emptyHint ?? 'No values yet: they appear once requests flow.') : 'Waiting for the first samples…'}
              </div>
            ) : null}
            <ResponsiveContainer width="100%" height={150}>
              <LineChart margin={{ top: 6, right: 10, bottom: 0, left: 0 }}>
                <CartesianGrid stroke="#edf0f3" vertical={false} />
                <XAxis dataKey="t" type="number" scale="time" domain={xDomain} ticks={xTicks} tickFormatter={timeTick} tick={{ fontSize: 10 }} interval="preserveStartEnd" minTickGap={8} allowDataOverflow />
                <YAxis type="number" domain={yDomain} tickFormatter={yTick} tick={{ fontSize: 10 }} width={44} allowDecimals />
                {lines.map((l) => (
                  <Line
                    key={l.label}
                    data={l.points}
                    dataKey="v"
                    name={l.label}
                    type="linear"
                    stroke={l.color}
                    strokeWidth={1.6}
                    dot={false}
                    activeDot={false}
                    isAnimationActive={false}
                    animationDuration={0}
                  />
                ))}
              </LineChart>
            </ResponsiveContainer>
          </div>
        </>
      )}
    </section>
  );
});
