import type { RunFabricLine } from '../../../common/kv/fabric-run-line';
import { decodeTransferColumns, transfersOverTime } from '../../../common/kv/nixl-transfer-series';
import type { ReportRun } from '../../../common/report-model';
import { PHASE_ORDER, PHASE_LABELS, type DisaggCheck, type TtftBreakdown } from '../../../common/waterfall';
import { cdfPoints, escapeXml as esc, histogramChart, stackedBarChart, xyChart, type XySeries } from './svg-chart';

/**
 * The run view's KV-insight cards in the HTML report (issue 9 §3 and §4): NIXL per-transfer
 * telemetry beside the vllm:nixl_* aggregate, "where did TTFT go" and "is disaggregation really
 * happening". The figures come from the same common/ functions as the run view (runs.series,
 * runs.waterfall); this file only draws them. Numbers carry their exact value in data-value.
 */

const MIB = 1024 * 1024;

type Num = (v: number | null | undefined, key: string, unit?: string) => string;

const GROUP_LABEL: Record<TtftBreakdown['group'], string> = { all: 'all requests', remote: 'prefilled remotely', local: 'prefilled locally' };
const STATUS_TITLE: Record<DisaggCheck['status'], string> = {
  ok: 'Disaggregation is happening',
  warn: 'Disaggregation is partly happening',
  bad: 'Disaggregation is not happening',
  'not-applicable': 'No disaggregation to check',
};

/** NIXL telemetry: the figures and cross-check table, and the four charts (per-block histogram and CDF, transfers over time, bytes per transfer). */
export function nixlTelemetryHtml(r: ReportRun, num: Num): { html: string; charts: string[] } {
  const t = r.series?.nixlTransfers;
  if (!t || t.count === 0) return { html: '', charts: [] };
  const id = r.run.id;
  const q = t.perBlockUs;
  const rows = t.workers.map((w) => {
    const agg = r.series?.kvTransfer.find((a) => a.source === w.worker);
    const aggUs = agg?.runMsPerBlock != null ? agg.runMsPerBlock * 1000 : null;
    const k = `${id}.nixl.${w.worker}`;
    return `<tr data-testid="nixl-worker-${esc(w.worker)}"><td>${esc(w.worker)}</td>${num(w.transfers, `${k}.transfers`)}${num(w.blocks, `${k}.blocks`)}${num(w.bytes, `${k}.bytes`)}${num(w.perBlockUs, `${k}.perBlockUs`, 'µs')}${num(aggUs, `${k}.aggregatePerBlockUs`, 'µs')}${num(aggUs !== null && w.perBlockUs !== null ? w.perBlockUs - aggUs : null, `${k}.differenceUs`, 'µs')}</tr>`;
  });
  const html = [
    '<h4>KV transfer per block: NIXL telemetry and vllm:nixl_* side by side</h4>',
    `<p data-testid="nixl-figures">NIXL telemetry: ${inline(num(t.count, `${id}.nixl.count`))} transfers${q ? ` · per block p50 ${inline(num(q.p50, `${id}.nixl.perBlockUs.p50`, 'µs'))}, p90 ${inline(num(q.p90, `${id}.nixl.perBlockUs.p90`, 'µs'))}, p99 ${inline(num(q.p99, `${id}.nixl.perBlockUs.p99`, 'µs'))}` : ' · block size unknown, no per-block figure'}.</p>`,
    `<table data-testid="nixl-crosscheck-${esc(id)}"><thead><tr><th>worker</th><th>transfers</th><th>blocks</th><th>bytes</th><th title="Σ agent_xfer_time ÷ Σ blocks">per block, telemetry</th><th title="Δ vllm:nixl_xfer_time_seconds_sum ÷ (Δ vllm:nixl_bytes_transferred_sum ÷ bytes per block)">per block, vllm:nixl_*</th><th>difference</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
    `<p class="meta">${t.withDescriptors > 0 ? `${t.withDescriptors} transfers carry a descriptor count.` : 'Descriptors per transfer: not in NIXL’s telemetry file (version 4); vllm:nixl_num_descriptors has their distribution.'}</p>`,
  ].join('\n');

  const cols = decodeTransferColumns(t);
  const perBlock: number[] = [];
  for (const v of cols.perBlockUs) if (Number.isFinite(v)) perBlock.push(v);
  const charts: string[] = [];
  if (perBlock.length) {
    charts.push(histogramChart({ title: 'KV transfer per block (NIXL telemetry): distribution', xLabel: 'µs per block', values: perBlock, yLabel: 'transfers', testId: 'chart-nixl-per-block-hist' }));
    const p = cdfPoints(perBlock);
    const series: XySeries[] = [{ label: 'per block (NIXL telemetry)', x: p.x, y: p.y, mode: 'step' }];
    const fabric: RunFabricLine | null = r.fabricLine !== undefined ? r.fabricLine : (r.series?.fabric ?? null);
    if (fabric) series.push({ label: fabric.label ?? `fabric (${fabric.source})`, x: [fabric.msPerBlock * 1000, fabric.msPerBlock * 1000], y: [0, 100], mode: 'line', dashed: true });
    charts.push(xyChart({ title: 'KV transfer per block (NIXL telemetry): CDF', xLabel: 'µs per block', yLabel: '% of transfers', series, yFromZero: true, yMax: 100, testId: 'chart-nixl-per-block-cdf' }));
  }
  const over = transfersOverTime(cols.atS);
  charts.push(xyChart({ title: 'KV transfers over time', xLabel: 'seconds since the run started', yLabel: 'transfers/s', series: [{ label: 'transfers/s', x: over.map((b) => b.x), y: over.map((b) => b.y), mode: 'step' }], yFromZero: true, testId: 'chart-nixl-over-time' }));
  charts.push(histogramChart({ title: 'Bytes per transfer', xLabel: 'MiB per transfer', values: Array.from(cols.bytes, (b) => b / MIB), yLabel: 'transfers', testId: 'chart-nixl-bytes' }));
  return { html, charts };
}

/** A number cell as an inline span, for figures inside a sentence. */
function inline(td: string): string {
  return td.replace(/^<td class="n"/, '<span class="n"').replace(/<\/td>$/, '</span>');
}

/** "Is disaggregation really happening" and "where did TTFT go", from runs.waterfall. */
export function waterfallHtml(r: ReportRun, num: Num): { html: string; charts: string[] } {
  const wf = r.waterfall;
  if (!wf) return { html: '', charts: [] };
  const id = r.run.id;
  const d = wf.disaggregation;
  const out: string[] = ['<h4>Is disaggregation really happening</h4>'];
  const cls = d.status === 'bad' ? 'worse' : d.status === 'warn' ? 'mixed' : d.status === 'ok' ? 'better' : 'not-comparable';
  out.push(`<div class="verdict ${cls}" data-testid="disagg-${esc(id)}" data-status="${esc(d.status)}"><b>${esc(STATUS_TITLE[d.status])}</b>${d.messages.map((m) => `<br>${esc(m)}`).join('')}</div>`);
  if (d.status !== 'not-applicable') {
    const k = `${id}.disagg`;
    const rows: Array<[string, string]> = [
      ['remote-prefill ratio (traced requests, warmup included)', num(d.remoteRatio, `${k}.remoteRatio`)],
      ['requests prefilled remotely / traced', `<td class="n">${inline(num(d.remotePrefilled, `${k}.remotePrefilled`))} / ${inline(num(d.tracedRequests, `${k}.tracedRequests`))}</td>`],
      [`KV bytes moved${d.kvBytesSource ? ` (${d.kvBytesSource === 'transfers' ? 'NIXL telemetry' : 'vllm:nixl_* counters'})` : ''}`, num(d.kvBytes, `${k}.kvBytes`, 'B')],
      ['external-KV prompt tokens on decode', num(d.decodeExternalKvTokens, `${k}.decodeExternalKvTokens`)],
      ['prompt tokens computed on decode', num(d.decodeLocalComputeTokens, `${k}.decodeLocalComputeTokens`)],
      ['prompt tokens sent to prefill', num(d.remotePromptTokens, `${k}.remotePromptTokens`)],
      ['requests finished by prefill workers', num(d.prefillWorkerRequests, `${k}.prefillWorkerRequests`)],
    ];
    out.push(`<table data-testid="disagg-figures-${esc(id)}"><thead><tr><th>figure</th><th>value</th></tr></thead><tbody>${rows.map(([l, v]) => `<tr><td>${esc(l)}</td>${v}</tr>`).join('')}</tbody></table>`);
  }

  out.push('<h4>Where did TTFT go</h4>');
  const charts: string[] = [];
  if (!wf.breakdowns.length) out.push('<p>No request of this run has a TTFT to break down.</p>');
  else {
    const present = PHASE_ORDER.filter((p) => wf.breakdowns.some((b) => b.phases.some((x) => x.id === p && x.meanMs > 0)));
    charts.push(
      stackedBarChart({
        title: 'Where did TTFT go: mean of each phase (ms)',
        xLabel: 'ms (means add up to the mean TTFT; dashed = upper bound)',
        keys: present.map((p) => ({ key: p, label: PHASE_LABELS[p] })),
        rows: wf.breakdowns.map((b) => ({ label: `${GROUP_LABEL[b.group]} (${b.requests})`, segments: PHASE_ORDER.flatMap((p) => b.phases.filter((x) => x.id === p).map((x) => ({ key: x.id, value: x.meanMs, dashed: x.basis === 'upper-bound' }))) })),
        testId: 'chart-ttft-breakdown',
      }),
    );
    for (const b of wf.breakdowns) {
      const k = `${id}.ttft.${b.group}`;
      const rows = b.phases.map(
        (p) =>
          `<tr><td>${esc(p.label)}${p.basis !== 'measured' ? ` <span class="meta">(${p.basis === 'upper-bound' ? 'upper bound' : 'estimate'})</span>` : ''}</td>${num(p.count, `${k}.${p.id}.count`)}${num(p.meanMs, `${k}.${p.id}.meanMs`, 'ms')}${num(p.p50Ms, `${k}.${p.id}.p50Ms`, 'ms')}${num(b.meanTtftMs > 0 ? (p.meanMs / b.meanTtftMs) * 100 : null, `${k}.${p.id}.sharePct`, '%')}</tr>`,
      );
      rows.push(`<tr><td><b>TTFT</b></td>${num(b.requests, `${k}.requests`)}${num(b.meanTtftMs, `${k}.meanTtftMs`, 'ms')}${num(b.p50TtftMs, `${k}.p50TtftMs`, 'ms')}<td></td></tr>`);
      out.push(`<table data-testid="ttft-breakdown-${esc(id)}-${b.group}"><thead><tr><th>phase (${esc(GROUP_LABEL[b.group])})</th><th>requests</th><th>mean</th><th>p50</th><th>share</th></tr></thead><tbody>${rows.join('')}</tbody></table>`);
    }
  }
  if (wf.notes.length) out.push(`<ul class="meta">${wf.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`);
  return { html: out.join('\n'), charts };
}
