import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { buildWaterfall, checkDisaggregation, ttftBreakdown, type RequestWaterfall } from '../../common/waterfall';
import { DisaggregationPanel, TtftBreakdownChart } from './waterfall-breakdown';
import { RequestWaterfallChart } from './waterfall-request';

function remote(id: string, ttft: number): RequestWaterfall {
  return buildWaterfall({
    client: { requestId: id, firstTokenMs: ttft, lastTokenMs: ttft + 100, stepMs: 10, error: null },
    router: {
      requestId: id,
      placement: 'remote',
      prefillReason: 'disaggregated',
      prefillWorker: 'p',
      decodeWorker: 'd',
      kvBlocks: 12,
      promptTokens: 200,
      prefillSentMs: 0.5,
      prefillDoneMs: ttft - 40,
      decodeSentMs: ttft - 39.8,
      firstTokenMs: ttft - 0.6,
      lastTokenMs: ttft + 99,
      error: null,
    },
    arrivalAfterSendMs: 0.3,
    transfers: [],
  });
}

describe('waterfall charts', () => {
  it('draws one row per phase with its duration, marking the upper bound and the estimate', () => {
    const html = renderToStaticMarkup(<RequestWaterfallChart waterfall={remote('r1', 150)} />);
    for (const id of ['client-to-router', 'router', 'prefill', 'router-handoff', 'kv-transfer', 'first-decode-step', 'router-to-client', 'decode']) expect(html).toContain(`data-testid="waterfall-request-phase-${id}"`);
    expect(html).toMatch(/data-testid="waterfall-request-phase-kv-transfer" data-duration-ms="29\.2\d*" data-basis="upper-bound"/);
    expect(html).toContain('(upper bound)');
    expect(html).toContain('≤ 29.2 ms');
    expect(html).toContain('≈ 10.0 ms');
    expect(html).toContain('data-ttft-ms="150"');
    // The zoom choices that apply to a remote prefill.
    expect(html).toContain('data-testid="waterfall-request-zoom-handoff"');
  });

  it('stacks the phase means of the run to its mean TTFT and lists each phase with its median', () => {
    const b = ttftBreakdown([remote('a', 100), remote('b', 200)], 'all')!;
    const html = renderToStaticMarkup(<TtftBreakdownChart breakdowns={[b]} />);
    expect(html).toContain('data-testid="wf-breakdown-all-prefill"');
    expect(html).toContain('data-testid="wf-breakdown-mean-ttft">150.0 ms');
    expect(html).toContain('KV transfer<span class="muted"> (upper bound)');
    expect(renderToStaticMarkup(<TtftBreakdownChart breakdowns={[]} />)).toContain('No request of this run has a TTFT');
  });

  it('shows the red panel with its sentence when prefill handled nothing', () => {
    const check = checkDisaggregation({
      mode: 'disaggregated',
      traces: [{ requestId: 'a', arrivalNs: 0, remotePrefill: false, decodeWorker: 'd', decodeSentNs: 1, firstTokenNs: 5, promptTokens: 10, prefillReason: 'short-prompt' }],
      samples: [],
      roles: new Map(),
      transfers: [],
    });
    const html = renderToStaticMarkup(<DisaggregationPanel check={check} />);
    expect(html).toContain('data-status="bad"');
    expect(html).toContain('role="alert"');
    expect(html).toContain('Disaggregation is not happening');
    expect(html).toContain('remotePrefillMinTokens');
    expect(html).toContain('data-testid="wf-disagg-ratio">0%');
  });
});
