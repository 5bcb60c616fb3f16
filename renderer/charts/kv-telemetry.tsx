import { memo, useMemo } from 'react';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { decodeTransferColumns, transfersOverTime, type NixlTransferSeries } from '../../common/kv/nixl-transfer-series';
import type { KvTransferSource } from '../../common/run-series';
import { AXIS_TICK, BenchChartFrame, CHART_HEIGHT, CHART_MARGIN, benchColor } from './bench-chart-frame';
import { sortedValues } from './bench-downsample';
import { CdfChart, HistogramChart } from './bench-distribution';

const MIB = 1024 * 1024;

const fmtUs = (us: number | null): string => (us === null || !Number.isFinite(us) ? '—' : us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : us >= 10 ? `${us.toFixed(1)} µs` : `${us.toFixed(2)} µs`);

export interface KvTelemetryProps {
  transfers: NixlTransferSeries;
  /** The vllm:nixl_* aggregate per worker (runs.series kvTransfer), shown beside as a cross-check. */
  aggregate: readonly KvTransferSource[];
}

/**
 * Per-transfer KV-transfer telemetry from NIXL (docs/nixl-telemetry.md): the true distribution of
 * per-block latency, transfers over time and bytes per transfer, with the per-worker figure from
 * vllm:nixl_* counters beside the same ratio computed from the transfers.
 */
export const KvTelemetryCharts = memo(function KvTelemetryCharts({ transfers, aggregate }: KvTelemetryProps) {
  const cols = useMemo(() => decodeTransferColumns(transfers), [transfers]);
  const perBlock = useMemo(() => sortedValues(cols.perBlockUs), [cols]);
  const mib = useMemo(() => sortedValues(Array.from(cols.bytes, (b) => b / MIB)), [cols]);
  const overTime = useMemo(() => transfersOverTime(cols.atS), [cols]);
  const q = transfers.perBlockUs;
  const figures = (
      <div className="bench-kv-figure" data-testid="kv-telemetry-figures">
        <span>
          <span className="muted">NIXL telemetry: </span>
          <strong data-testid="kv-telemetry-count">{transfers.count.toLocaleString('en-US')}</strong>
          <span className="muted"> transfers</span>
          {q ? (
            <span className="muted" data-testid="kv-telemetry-quantiles" data-p50={q.p50}>
              {' '}· per block p50 {fmtUs(q.p50)}, p90 {fmtUs(q.p90)}, p99 {fmtUs(q.p99)}
            </span>
          ) : (
            <span className="muted"> · block size unknown, no per-block figure</span>
          )}
        </span>
        <table className="bench-kv-crosscheck" data-testid="kv-telemetry-crosscheck" style={{ borderSpacing: "14px 2px", marginLeft: -14, textAlign: "left" }}>
          <thead>
            <tr>
              <th>worker</th>
              <th title="Σ agent_xfer_time ÷ Σ blocks over the run's transfers">per block, telemetry</th>
              <th title="Δ vllm:nixl_xfer_time_seconds_sum ÷ (Δ vllm:nixl_bytes_transferred_sum ÷ bytes per block)">per block, vllm:nixl_*</th>
              <th>difference</th>
            </tr>
          </thead>
          <tbody>
            {transfers.workers.map((w) => {
              const agg = aggregate.find((a) => a.source === w.worker);
              const aggUs = agg?.runMsPerBlock != null ? agg.runMsPerBlock * 1000 : null;
              const diff = aggUs !== null && w.perBlockUs !== null ? w.perBlockUs - aggUs : null;
              return (
                <tr key={w.worker} data-testid={`kv-telemetry-crosscheck-${w.worker}`} data-telemetry={w.perBlockUs ?? ''} data-aggregate={aggUs ?? ''}>
                  <td>{w.worker}</td>
                  <td>{fmtUs(w.perBlockUs)}</td>
                  <td>{fmtUs(aggUs)}</td>
                  <td>{diff === null || aggUs === null ? '—' : `${diff >= 0 ? '+' : '−'}${fmtUs(Math.abs(diff))} (${aggUs > 0 ? ((diff / aggUs) * 100).toFixed(1) : '—'}%)`}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
        <span className="muted small" data-testid="kv-telemetry-descriptors">
          {transfers.withDescriptors > 0
            ? `${transfers.withDescriptors} transfers carry a descriptor count.`
            : 'Descriptors per transfer: not in NIXL’s telemetry file (version 4); vllm:nixl_num_descriptors has their distribution.'}
        </span>
      </div>
  );
  return (
    <>
      <section className="chart bench-chart bench-chart-wide" data-testid="bench-chart-kv-telemetry" data-points={transfers.count} aria-label="KV transfer per block: NIXL telemetry and vllm:nixl_*">
        <header className="chart-head">
          <h3 className="chart-title">KV transfer per block: NIXL telemetry and vllm:nixl_* side by side</h3>
        </header>
        <p className="chart-help muted">Each transfer as NIXL recorded it (Σ agent_xfer_time ÷ Σ blocks per worker), against the average vLLM&apos;s counters give for the same worker.</p>
        {figures}
      </section>
      {perBlock.length ? <HistogramChart metric="kv-telemetry-per-block" label="KV transfer per block (NIXL telemetry)" unit="µs" sorted={perBlock} color={benchColor(2)} what="transfers" /> : null}
      {perBlock.length ? <CdfChart metric="kv-telemetry-per-block" label="KV transfer per block (NIXL telemetry)" unit="µs" sorted={perBlock} color={benchColor(2)} /> : null}
      <BenchChartFrame id="kv-telemetry-over-time" title="KV transfers over time" help="Transfers per second, by when the collector read them (NIXL's events carry no timestamp; read every 20 ms)." points={overTime.length}>
        <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
          <BarChart data={overTime} margin={CHART_MARGIN}>
            <CartesianGrid stroke="#edf0f3" vertical={false} />
            <XAxis dataKey="x" tick={AXIS_TICK} tickFormatter={(v: number) => `${Math.round(v)} s`} />
            <YAxis tick={AXIS_TICK} width={44} />
            <Tooltip isAnimationActive={false} formatter={(v) => (typeof v === 'number' ? `${v.toFixed(1)} /s` : String(v))} labelFormatter={(v) => `${Number(v).toFixed(1)} s`} />
            <Bar dataKey="y" name="transfers/s" fill={benchColor(3)} isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </BenchChartFrame>
      {mib.length ? <HistogramChart metric="kv-telemetry-bytes" label="Bytes per transfer" unit="MiB" sorted={mib} color={benchColor(4)} what="transfers" /> : null}
    </>
  );
});
