import { memo, useState } from 'react';
import type { DisaggCheck, TtftBreakdown } from '../../common/waterfall';
import { PHASE_COLORS, fmtMs } from './waterfall-request';
import './waterfall-charts.css';

const GROUP_LABEL: Record<TtftBreakdown['group'], string> = { all: 'all requests', remote: 'prefilled remotely', local: 'prefilled locally' };

/**
 * "Where did TTFT go": the mean of each phase over the run as one stacked bar per group of
 * requests (the means add up to the mean TTFT because absent phases count as zero), and a table
 * with each phase's median over the requests that have it.
 */
export const TtftBreakdownChart = memo(function TtftBreakdownChart({ breakdowns }: { breakdowns: readonly TtftBreakdown[] }) {
  const [group, setGroup] = useState<TtftBreakdown['group']>('all');
  if (breakdowns.length === 0) return <p className="muted small" data-testid="wf-breakdown-empty">No request of this run has a TTFT to break down.</p>;
  const shown = breakdowns.find((b) => b.group === group) ?? breakdowns[0]!;
  const rows = breakdowns.filter((b) => b.group === 'all' || breakdowns.length > 2);
  const max = Math.max(...rows.map((b) => b.meanTtftMs), 1e-9);
  return (
    <div data-testid="wf-breakdown">
      {rows.map((b) => (
        <div className="wf-stack-row" key={b.group} data-testid={`wf-breakdown-${b.group}`} data-mean-ttft-ms={b.meanTtftMs}>
          <span className="small">{GROUP_LABEL[b.group]}</span>
          <div className="wf-stack" style={{ width: `${(b.meanTtftMs / max) * 100}%` }} role="img" aria-label={`Mean TTFT ${fmtMs(b.meanTtftMs)} by phase`}>
            {b.phases
              .filter((p) => p.meanMs > 0)
              .map((p) => (
                <span
                  key={p.id}
                  className={`wf-stack-seg wf-bar-${p.basis}`}
                  style={{ width: `${(p.meanMs / b.meanTtftMs) * 100}%`, background: PHASE_COLORS[p.id] }}
                  title={`${p.label}: mean ${fmtMs(p.meanMs)}${p.basis === 'upper-bound' ? ' (upper bound)' : ''}`}
                  data-testid={`wf-breakdown-${b.group}-${p.id}`}
                  data-mean-ms={p.meanMs}
                />
              ))}
          </div>
          <span className="mono small">{fmtMs(b.meanTtftMs)}</span>
        </div>
      ))}
      {breakdowns.length > 1 ? (
        <span className="segmented" role="group">
          {breakdowns.map((b) => (
            <button key={b.group} type="button" className={`segmented-item${b.group === shown.group ? ' segmented-active' : ''}`} aria-pressed={b.group === shown.group} onClick={() => setGroup(b.group)} data-testid={`wf-breakdown-group-${b.group}`}>
              {GROUP_LABEL[b.group]} ({b.requests})
            </button>
          ))}
        </span>
      ) : null}
      <table className="wf-table" data-testid="wf-breakdown-table">
        <thead>
          <tr>
            <th>phase ({GROUP_LABEL[shown.group]}, {shown.requests} requests)</th>
            <th>mean</th>
            <th>p50</th>
            <th>share</th>
          </tr>
        </thead>
        <tbody>
          {shown.phases.map((p) => (
            <tr key={p.id}>
              <td>
                <span className="wf-swatch" style={{ background: PHASE_COLORS[p.id] }} aria-hidden="true" />
                {p.label}
                {p.basis !== 'measured' ? <span className="muted"> ({p.basis === 'upper-bound' ? 'upper bound' : 'estimate'})</span> : null}
                {p.count < shown.requests ? <span className="muted"> · {p.count} requests</span> : null}
              </td>
              <td className="mono">{fmtMs(p.meanMs)}</td>
              <td className="mono">{fmtMs(p.p50Ms)}</td>
              <td className="mono">{((p.meanMs / shown.meanTtftMs) * 100).toFixed(1)}%</td>
            </tr>
          ))}
          <tr>
            <td>
              <strong>TTFT</strong>
            </td>
            <td className="mono" data-testid="wf-breakdown-mean-ttft">
              {fmtMs(shown.meanTtftMs)}
            </td>
            <td className="mono">{fmtMs(shown.p50TtftMs)}</td>
            <td />
          </tr>
        </tbody>
      </table>
    </div>
  );
});

const STATUS_CLASS: Record<DisaggCheck['status'], string> = { ok: 'callout-ok', warn: 'callout-warn', bad: 'callout-bad', 'not-applicable': '' };
const STATUS_TITLE: Record<DisaggCheck['status'], string> = {
  ok: 'Disaggregation is happening',
  warn: 'Disaggregation is partly happening',
  bad: 'Disaggregation is not happening',
  'not-applicable': 'No disaggregation to check',
};

const fmtTokens = (v: number | null) => (v === null ? '—' : Math.round(v).toLocaleString('en-US'));
const fmtBytes = (v: number | null) => (v === null ? '—' : v >= 2 ** 30 ? `${(v / 2 ** 30).toFixed(2)} GiB` : v >= 2 ** 20 ? `${(v / 2 ** 20).toFixed(1)} MiB` : `${Math.round(v).toLocaleString('en-US')} B`);

/** The "is disaggregation really happening" panel: a verdict in plain sentences, and the figures behind it. */
export function DisaggregationPanel({ check }: { check: DisaggCheck }) {
  return (
    <div className={`callout ${STATUS_CLASS[check.status]}`} data-testid="wf-disagg" data-status={check.status} role={check.status === 'bad' ? 'alert' : undefined}>
      <div className="callout-title" data-testid="wf-disagg-title">
        {STATUS_TITLE[check.status]}
      </div>
      {check.messages.map((m) => (
        <p key={m} className="small" data-testid="wf-disagg-message">
          {m}
        </p>
      ))}
      {check.status !== 'not-applicable' ? (
        <dl className="wf-panel-figures">
          <div>
            <dt>remote-prefill ratio (traced requests, warmup included)</dt>
            <dd data-testid="wf-disagg-ratio">
              {check.remoteRatio === null ? '—' : `${(check.remoteRatio * 100).toFixed(0)}%`}{' '}
              <span className="muted small">
                ({check.remotePrefilled}/{check.tracedRequests})
              </span>
            </dd>
          </div>
          <div>
            <dt>KV bytes moved{check.kvBytesSource ? ` (${check.kvBytesSource === 'transfers' ? 'NIXL telemetry' : 'vllm:nixl_* counters'})` : ''}</dt>
            <dd data-testid="wf-disagg-bytes">{fmtBytes(check.kvBytes)}</dd>
          </div>
          <div>
            <dt>external-KV prompt tokens on decode</dt>
            <dd data-testid="wf-disagg-external">{fmtTokens(check.decodeExternalKvTokens)}</dd>
          </div>
          <div>
            <dt>prompt tokens computed on decode</dt>
            <dd data-testid="wf-disagg-local">{fmtTokens(check.decodeLocalComputeTokens)}</dd>
          </div>
          <div>
            <dt>prompt tokens sent to prefill</dt>
            <dd>{fmtTokens(check.remotePromptTokens)}</dd>
          </div>
          <div>
            <dt>requests finished by prefill workers</dt>
            <dd>{fmtTokens(check.prefillWorkerRequests)}</dd>
          </div>
        </dl>
      ) : null}
    </div>
  );
}
