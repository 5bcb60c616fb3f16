import { memo, useState } from 'react';
import type { RequestWaterfall, WaterfallPhase, WaterfallPhaseId } from '../../common/waterfall';
import './charts.css';
import './waterfall-charts.css';

/** One colour per phase, the same in the waterfall and the stacked breakdown. */
export const PHASE_COLORS: Record<WaterfallPhaseId, string> = {
  'client-to-router': '#8a94a6',
  network: '#8a94a6',
  router: '#5b6472',
  prefill: '#2f6fde',
  'router-handoff': '#a3adbd',
  'decode-queue': '#c9a227',
  'kv-transfer': '#d9730d',
  'first-decode-step': '#1d8a4e',
  'local-prefill': '#9b51e0',
  'router-to-client': '#b7bfcc',
  unattributed: '#c2372f',
  decode: '#0f8b8d',
};

export const fmtMs = (v: number | null | undefined): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '—' : Math.abs(v) >= 1000 ? `${(v / 1000).toFixed(2)} s` : Math.abs(v) >= 10 ? `${v.toFixed(1)} ms` : `${v.toFixed(2)} ms`;

type Zoom = 'all' | 'ttft' | 'handoff';
const ZOOMS: ReadonlyArray<[Zoom, string]> = [
  ['all', 'Whole request'],
  ['ttft', 'Up to the first token'],
  ['handoff', 'Prefill done → first token'],
];

const BASIS_MARK: Record<WaterfallPhase['basis'], string> = { measured: '', 'upper-bound': '≤ ', estimate: '≈ ' };

/**
 * One request as a waterfall: a row per phase, its bar placed at its start on a common time axis
 * (request sent = 0). The TTFT phases are consecutive and end at the TTFT marker; decode follows.
 * Upper bounds are hatched and estimates dashed, and say so in their row.
 */
export const RequestWaterfallChart = memo(function RequestWaterfallChart({ waterfall, testId = 'waterfall-request' }: { waterfall: RequestWaterfall; testId?: string }) {
  const w = waterfall;
  const [zoom, setZoom] = useState<Zoom>('all');
  const end = Math.max(1e-9, ...w.phases.map((p) => p.startMs + Math.max(0, p.durationMs)), w.ttftMs ?? 0);
  // The handoff (P done → first token) is often a sliver beside prefill: zooming shows it.
  const prefill = w.phases.find((p) => p.id === 'prefill' || p.id === 'local-prefill');
  const zooms: Record<Zoom, [number, number] | null> = {
    all: [0, end],
    ttft: w.ttftMs !== null && w.ttftMs < end ? [0, w.ttftMs] : null,
    handoff: prefill && w.ttftMs !== null && prefill.id === 'prefill' ? [prefill.startMs + prefill.durationMs, w.ttftMs] : null,
  };
  const [from, to] = zooms[zoom] ?? [0, end];
  const span = Math.max(1e-9, to - from);
  const pct = (ms: number) => `${Math.min(100, Math.max(0, ((ms - from) / span) * 100))}%`;
  const width = (p: WaterfallPhase) => {
    const a = Math.max(from, p.startMs);
    const b = Math.min(to, p.startMs + Math.max(0, p.durationMs));
    return b > a ? `max(2px, ${(((b - a) / span) * 100).toFixed(4)}%)` : '0px';
  };
  const total = w.phases.filter((p) => p.beforeFirstToken).reduce((a, p) => a + p.durationMs, 0);
  return (
    <div className="wf-request" data-testid={testId} data-request-id={w.requestId} data-ttft-ms={w.ttftMs ?? ''} data-phases-ms={total}>
      <div className="wf-request-head small">
        <span>
          <span className="muted">request </span>
          <span className="mono">{w.requestId}</span>
        </span>
        <span>
          <span className="muted">TTFT </span>
          <strong data-testid={`${testId}-ttft`}>{fmtMs(w.ttftMs)}</strong>
        </span>
        <span>
          <span className="muted">prefill </span>
          {w.placement}
          {w.prefillReason && w.placement !== 'remote' ? <span className="muted"> ({w.prefillReason})</span> : null}
        </span>
        {w.kvBlocks !== null ? (
          <span>
            <span className="muted">KV blocks </span>
            {w.kvBlocks}
          </span>
        ) : null}
        {w.transfers ? (
          <span data-testid={`${testId}-transfers`}>
            <span className="muted">NIXL </span>
            {w.transfers.count} transfer{w.transfers.count === 1 ? '' : 's'}, {(w.transfers.bytes / 2 ** 20).toFixed(1)} MiB
          </span>
        ) : null}
      </div>
      {w.error ? <div className="callout callout-bad small">{w.error}</div> : null}
      <div className="wf-rows" role="table" aria-label={`Waterfall of request ${w.requestId}`}>
        {w.phases.map((p, i) => (
          <div className={`wf-row${p.beforeFirstToken ? '' : ' wf-row-after'}`} role="row" key={`${p.id}-${i}`} data-testid={`${testId}-phase-${p.id}`} data-duration-ms={p.durationMs} data-basis={p.basis} title={p.note ?? undefined}>
            <span className="wf-label" role="cell">
              {p.label}
              {p.basis !== 'measured' ? <span className="wf-basis muted"> {p.basis === 'upper-bound' ? '(upper bound)' : '(estimate)'}</span> : null}
            </span>
            <span className="wf-track" role="cell">
              <span
                className={`wf-bar wf-bar-${p.basis}`}
                style={{ left: pct(p.startMs), width: width(p), background: PHASE_COLORS[p.id] }}
              />
              {w.ttftMs !== null && w.ttftMs >= from && w.ttftMs <= to ? <span className="wf-ttft-line" style={{ left: pct(w.ttftMs) }} aria-hidden="true" /> : null}
            </span>
            <span className="wf-value mono" role="cell">
              {BASIS_MARK[p.basis]}
              {fmtMs(p.durationMs)}
            </span>
          </div>
        ))}
      </div>
      <div className="wf-axis muted small">
        <span>{from === 0 ? '0 (sent)' : `prefill done at ${fmtMs(from)}`}</span>
        {w.ttftMs !== null ? <span>first token at {fmtMs(w.ttftMs)}</span> : null}
        <span>{from === 0 ? fmtMs(to) : `+${fmtMs(to - from)}`}</span>
      </div>
      <span className="segmented wf-zoom" role="group" aria-label="Time axis">
        {ZOOMS.filter(([z]) => zooms[z] !== null).map(([z, label]) => (
          <button key={z} type="button" className={`segmented-item${z === zoom ? ' segmented-active' : ''}`} aria-pressed={z === zoom} onClick={() => setZoom(z)} data-testid={`${testId}-zoom-${z}`}>
            {label}
          </button>
        ))}
      </span>
      {w.notes.map((n) => (
        <p key={n} className="muted small wf-note">
          {n}
        </p>
      ))}
    </div>
  );
});
