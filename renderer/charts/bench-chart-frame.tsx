import type { ReactNode } from 'react';
import './charts.css';
import './bench-charts.css';

/** Colours of the run view's lines, in order (the deployment charts use the same family). */
export const BENCH_PALETTE = ['#2f6fde', '#d9730d', '#1d8a4e', '#9b51e0', '#c2372f', '#0f8b8d', '#8a6d1d', '#5b6472'] as const;
export const benchColor = (i: number): string => BENCH_PALETTE[i % BENCH_PALETTE.length]!;

export const CHART_HEIGHT = 190;
export const AXIS_TICK = { fontSize: 10 } as const;
export const CHART_MARGIN = { top: 8, right: 14, bottom: 14, left: 0 } as const;

export interface BenchChartFrameProps {
  id: string;
  title: string;
  help?: ReactNode;
  /** Points drawn, all lines together: a test (and a curious user) can see the downsampling worked. */
  points: number;
  /** Shown instead of the plot, e.g. why a non-streaming run has no TTFT. */
  empty?: string | null;
  /** Above the plot: a legend or headline values. */
  head?: ReactNode;
  wide?: boolean;
  children: ReactNode;
}

/** The tile every run-view chart sits in: title, one line of help, the plot or why there is none. */
export function BenchChartFrame({ id, title, help, points, empty, head, wide, children }: BenchChartFrameProps) {
  return (
    <section className={`chart bench-chart${wide ? ' bench-chart-wide' : ''}`} data-testid={`bench-chart-${id}`} data-points={points} aria-label={title}>
      <header className="chart-head">
        <h3 className="chart-title">{title}</h3>
      </header>
      {help ? <p className="chart-help muted">{help}</p> : null}
      {head}
      {empty ? (
        <div className="chart-empty" data-testid={`bench-chart-${id}-empty`}>
          {empty}
        </div>
      ) : (
        <div className="bench-plot" style={{ height: CHART_HEIGHT }}>
          {children}
        </div>
      )}
    </section>
  );
}

export interface LegendItem {
  label: string;
  color: string;
  value?: string;
  testId?: string;
}

export function BenchLegend({ items }: { items: readonly LegendItem[] }) {
  return (
    <ul className="chart-latest">
      {items.map((l) => (
        <li key={l.label}>
          <span className="chart-swatch" style={{ background: l.color }} aria-hidden="true" />
          <span className="muted">{l.label}</span>
          {l.value !== undefined ? (
            <span className="mono chart-value" data-testid={l.testId}>
              {l.value}
            </span>
          ) : null}
        </li>
      ))}
    </ul>
  );
}
