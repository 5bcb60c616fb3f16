import type { GpuTopology } from '../../../common/host';

/** nvidia-smi topo -m legend, fastest first. */
export const LINK_LEGEND: ReadonlyArray<{ kind: string; code: string; text: string }> = [
  { kind: 'nv', code: 'NV#', text: 'NVLink, # bonded links' },
  { kind: 'pix', code: 'PIX', text: 'one PCIe bridge' },
  { kind: 'pxb', code: 'PXB', text: 'several PCIe bridges' },
  { kind: 'phb', code: 'PHB', text: 'PCIe host bridge' },
  { kind: 'node', code: 'NODE', text: 'host bridges within a NUMA node' },
  { kind: 'sys', code: 'SYS', text: 'across NUMA nodes' },
];

/** Colour class of one matrix cell. */
export function linkKind(cell: string): string {
  const c = cell.trim().toUpperCase();
  if (c === 'X') return 'self';
  if (/^NV\d+$/.test(c)) return 'nv';
  if (c === 'PIX' || c === 'PXB' || c === 'PHB' || c === 'NODE' || c === 'SYS') return c.toLowerCase();
  return 'other';
}

export function TopologyMatrix({ topology }: { topology: GpuTopology }) {
  const { labels, matrix, cpuAffinity, numaAffinity, nics } = topology;
  const hasCpu = Object.keys(cpuAffinity).length > 0;
  const hasNuma = Object.keys(numaAffinity).length > 0;
  const nicNames = Object.entries(nics);
  return (
    <div>
      <div className="table-scroll">
        <table className="topo" data-testid="topology-matrix">
          <thead>
            <tr>
              <th />
              {labels.map((l) => (
                <th key={l} className="mono">
                  {l}
                </th>
              ))}
              {hasCpu ? <th>CPU affinity</th> : null}
              {hasNuma ? <th>NUMA</th> : null}
            </tr>
          </thead>
          <tbody>
            {labels.map((row, i) => (
              <tr key={row}>
                <th className="mono">{row}</th>
                {labels.map((col, j) => {
                  const cell = matrix[i]?.[j] ?? '';
                  return (
                    <td key={col} className={`topo-cell link-${linkKind(cell)}`} data-testid={`topo-${row}-${col}`} title={`${row} ↔ ${col}: ${cell}`}>
                      {cell}
                    </td>
                  );
                })}
                {hasCpu ? <td className="mono muted">{cpuAffinity[row] ?? ''}</td> : null}
                {hasNuma ? <td className="mono muted">{numaAffinity[row] ?? ''}</td> : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ul className="legend" aria-label="Link types">
        {LINK_LEGEND.map((l) => (
          <li key={l.kind}>
            <span className={`legend-swatch link-${l.kind}`}>{l.code}</span> {l.text}
          </li>
        ))}
      </ul>
      {nicNames.length > 0 ? (
        <p className="muted small" data-testid="topology-nics">
          {nicNames.map(([k, v]) => `${k} = ${v}`).join(' · ')}
        </p>
      ) : null}
    </div>
  );
}
