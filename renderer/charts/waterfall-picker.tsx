import { memo, useMemo } from 'react';
import { CartesianGrid, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { WaterfallPoint } from '../../common/waterfall';
import { AXIS_TICK, CHART_MARGIN } from './bench-chart-frame';

const PLACEMENT_COLOR: Record<WaterfallPoint['placement'], string> = { remote: '#2f6fde', local: '#9b51e0', aggregated: '#9b51e0', unknown: '#8a94a6' };
const tick = (v: number): string => (Math.abs(v) >= 100 ? String(Math.round(v)) : v.toFixed(1));

/** TTFT of each request over the run; a click picks the request whose waterfall is shown. */
export const WaterfallPicker = memo(function WaterfallPicker({ points, selected, onPick }: { points: readonly WaterfallPoint[]; selected: string | null; onPick: (id: string) => void }) {
  const byPlacement = useMemo(() => {
    const m = new Map<WaterfallPoint['placement'], WaterfallPoint[]>();
    for (const p of points) m.set(p.placement, [...(m.get(p.placement) ?? []), p]);
    return [...m];
  }, [points]);
  const sel = points.find((p) => p.id === selected);
  return (
    <div className="bench-plot" style={{ height: 170 }} data-testid="wf-picker" data-points={points.length}>
      <ResponsiveContainer width="100%" height={170}>
        <ScatterChart margin={CHART_MARGIN}>
          <CartesianGrid stroke="#edf0f3" />
          <XAxis dataKey="sendS" type="number" name="sent at (s)" domain={['auto', 'auto']} tick={AXIS_TICK} tickFormatter={tick} label={{ value: 'sent at (s)', position: 'insideBottom', offset: -8, fontSize: 10 }} />
          <YAxis dataKey="ttftMs" type="number" name="TTFT ms" domain={[0, 'auto']} tick={AXIS_TICK} tickFormatter={tick} width={52} />
          <Tooltip isAnimationActive={false} cursor={false} />
          {byPlacement.map(([placement, data]) => (
            <Scatter
              key={placement}
              name={placement}
              data={data}
              fill={PLACEMENT_COLOR[placement]}
              fillOpacity={0.6}
              isAnimationActive={false}
              style={{ cursor: 'pointer' }}
              onClick={(d: unknown) => {
                const id = (d as { payload?: { id?: unknown } } | null)?.payload?.id ?? (d as { id?: unknown } | null)?.id;
                if (typeof id === 'string') onPick(id);
              }}
            />
          ))}
          {sel ? <Scatter name="shown" data={[sel]} fill="#c2372f" shape="diamond" isAnimationActive={false} /> : null}
        </ScatterChart>
      </ResponsiveContainer>
    </div>
  );
});
