import type { FabricLink, FabricProbeRecord } from '../../../common/kv/fabric-probe';
import type { KvprobeMode } from '../../../common/kv/kvprobe-result';
import { expectationRow, fabricWarnings, LINK_EXPECTATIONS, LINK_EXPECTATIONS_SOURCE } from '../../../common/kv/link-expectations';
import { formatAgo, formatBytes } from '../../format';
import './fabric.css';

const MODES: ReadonlyArray<{ mode: KvprobeMode; label: string; what: string }> = [
  { mode: 'gather', label: 'gather', what: 'one kernel over peer-mapped memory: the ceiling NIXL should approach' },
  { mode: 'contiguous', label: 'contiguous', what: 'the same bytes in one copy: the link’s peak' },
  { mode: 'per-piece', label: 'per piece', what: 'one cudaMemcpyPeerAsync per K/V piece: a naive transfer' },
  { mode: 'host-staged', label: 'host-staged', what: 'device → pinned host → device: what a host fallback costs' },
];

export const fmtUs = (us: number): string => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : us >= 100 ? `${us.toFixed(0)} µs` : us >= 10 ? `${us.toFixed(1)} µs` : `${us.toFixed(2)} µs`);
const fmtGb = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/** "NV18 — NVLink, 18 bonded links. Expected ≈ 360 GB/s." */
export function LinkLine({ link, testId }: { link: FabricLink; testId: string }) {
  const row = expectationRow(link.topo);
  return (
    <span className="fabric-link" data-testid={testId} data-topo={link.topo ?? ''} data-kind={link.kind}>
      <span className={`legend-swatch link-${link.kind === 'nvlink' ? 'nv' : (link.topo ?? 'other').toLowerCase()}`}>{link.topo ?? '?'}</span> {row?.meaning ?? link.description}
      {link.expectedGbPerS !== null ? (
        <span className="muted">
          {' '}
          · expected ≈ <span data-testid={`${testId}-expected`}>{link.expectedGbPerS}</span> GB/s
        </span>
      ) : null}
    </span>
  );
}

const VERDICT_LOOK = { ok: 'chip-ok', slow: 'chip-warn', unknown: 'chip-idle' } as const;
const VERDICT_TEXT = { ok: 'link looks right', slow: 'link looks slow', unknown: 'no expectation' } as const;

/** One stored or just-measured fabric probe: link, figures per mode and block count, warnings. */
export function FabricResultView({ record, testId = 'fabric-result' }: { record: FabricProbeRecord; testId?: string }) {
  const { result, link, verdict } = record;
  const warnings = fabricWarnings(link, result);
  const level = warnings.some((w) => w.level === 'warn') ? 'slow' : verdict.level;
  const counts = [...result.blockCounts].sort((a, b) => a - b);
  const cell = (mode: KvprobeMode, blocks: number) => result.measurements.find((m) => m.mode === mode && m.blocks === blocks);
  const shape = result.shape;
  return (
    <div className="fabric-result" data-testid={testId} data-verdict={level} data-key={record.key}>
      <div className="fabric-result-head">
        <strong>
          GPU {record.srcGpu} → GPU {record.dstGpu}
        </strong>
        <LinkLine link={link} testId={`${testId}-link`} />
        <span className={`chip ${VERDICT_LOOK[level]}`} data-testid={`${testId}-verdict`} data-level={level}>
          <span className="chip-dot" />
          {VERDICT_TEXT[level]}
        </span>
      </div>
      <p className="small muted" data-testid={`${testId}-shape`}>
        {record.model ? `${record.model}, TP ${record.tp ?? 1}: ` : ''}
        {shape.layers} layers × K,V × {shape.blockSize} tokens × {shape.kvHeadsPerRank} KV heads × {shape.headDim} × {shape.dtypeBytes} B = {formatBytes(shape.bytesPerBlock)} per block in {shape.piecesPerBlock} pieces ·{' '}
        {result.implementation === 'native' ? 'kvprobe (CUDA)' : result.implementation === 'torch' ? 'kvprobe PyTorch fallback' : 'CPU self-test'} via {record.provenance.via}
        {result.crossProcess ? ', source and destination in separate processes (CUDA IPC)' : ''} · measured {formatAgo(record.measuredAt)}
      </p>
      <div className="table-scroll">
        <table className="table table-compact fabric-table" data-testid={`${testId}-table`}>
          <thead>
            <tr>
              <th>Mode</th>
              {counts.map((n) => (
                <th key={n} className="num" colSpan={2}>
                  {n} block{n === 1 ? '' : 's'}
                </th>
              ))}
            </tr>
            <tr className="fabric-subhead">
              <th />
              {counts.map((n) => (
                <FragmentHead key={n} />
              ))}
            </tr>
          </thead>
          <tbody>
            {MODES.map(({ mode, label, what }) => {
              const skipped = result.skipped.find((s) => s.mode === mode);
              return (
                <tr key={mode} data-testid={`${testId}-mode-${mode}`} className={mode === 'gather' ? 'fabric-row-main' : undefined}>
                  <th title={what}>{label}</th>
                  {skipped ? (
                    <td colSpan={counts.length * 2} className="muted small">
                      not run: {skipped.reason}
                    </td>
                  ) : (
                    counts.map((n) => {
                      const m = cell(mode, n);
                      return m ? (
                        <FigureCells key={n} us={m.perBlockUs.p50} p99={m.perBlockUs.p99} gb={m.gbPerS} testId={`${testId}-${mode}-${n}`} />
                      ) : (
                        <td key={n} colSpan={2} className="num muted">
                          —
                        </td>
                      );
                    })
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {warnings.length ? (
        <ul className="fabric-warnings" data-testid={`${testId}-warnings`}>
          {warnings.map((w) => (
            <li key={w.code} className={`callout ${w.level === 'warn' ? 'callout-warn' : ''}`} data-testid={`${testId}-warning`} data-code={w.code} data-level={w.level}>
              {w.message}
            </li>
          ))}
        </ul>
      ) : (
        <p className="small fabric-ok" data-testid={`${testId}-verdict-text`}>
          {verdict.message}
        </p>
      )}
    </div>
  );
}

function FragmentHead() {
  return (
    <>
      <th className="num fabric-unit">µs / block</th>
      <th className="num fabric-unit">GB/s</th>
    </>
  );
}

function FigureCells({ us, p99, gb, testId }: { us: number; p99: number; gb: number; testId: string }) {
  return (
    <>
      <td className="num mono" data-testid={`${testId}-us`} data-value={us} title={`p50 ${fmtUs(us)}, p99 ${fmtUs(p99)} per block`}>
        {fmtUs(us)}
      </td>
      <td className="num mono" data-testid={`${testId}-gbps`} data-value={gb}>
        {fmtGb(gb)}
      </td>
    </>
  );
}

/** The expectations behind "expected", with where they come from. */
export function LinkExpectationsTable({ highlight }: { highlight?: string | null }) {
  const current = expectationRow(highlight ?? null)?.code;
  return (
    <details className="fabric-expectations" data-testid="fabric-expectations">
      <summary>Expected figures by link type</summary>
      <table className="table table-compact">
        <thead>
          <tr>
            <th>Link</th>
            <th>Meaning</th>
            <th className="num">Expected one-way</th>
            <th>For KV transfer</th>
          </tr>
        </thead>
        <tbody>
          {LINK_EXPECTATIONS.map((r) => (
            <tr key={r.code} className={r.code === current ? 'fabric-row-current' : undefined} data-testid={`fabric-expect-${r.code}`}>
              <td className="mono">{r.code}</td>
              <td>{r.meaning}</td>
              <td className="num mono">{r.expectedText}</td>
              <td className={r.fitForKv === 'poor' ? 'text-warn' : undefined}>
                {r.fitForKv} — {r.note}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="small muted" data-testid="fabric-expectations-source">
        Source: {LINK_EXPECTATIONS_SOURCE}
      </p>
    </details>
  );
}
