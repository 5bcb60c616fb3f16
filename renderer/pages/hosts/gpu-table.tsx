import type { GpuInfo } from '../../../common/host';
import { formatMiB, formatPercent } from '../../format';

/** GPU UUIDs share long prefixes on one host; the tail is what tells them apart. */
export function shortUuid(uuid: string): string {
  return uuid.length <= 20 ? uuid : `${uuid.slice(0, 8)}…${uuid.slice(-8)}`;
}

export function GpuTable({ gpus }: { gpus: readonly GpuInfo[] }) {
  return (
    <table className="table" data-testid="gpu-table">
      <thead>
        <tr>
          <th className="num">#</th>
          <th>Name</th>
          <th className="num">Memory used / total</th>
          <th>Utilisation</th>
          <th>Driver</th>
          <th>UUID</th>
        </tr>
      </thead>
      <tbody>
        {gpus.map((g) => {
          const memPct = g.memoryTotalMiB > 0 ? (g.memoryUsedMiB / g.memoryTotalMiB) * 100 : 0;
          return (
            <tr key={g.uuid || g.index} data-testid={`gpu-row-${g.index}`}>
              <td className="num mono" data-testid={`gpu-index-${g.index}`}>
                {g.index}
              </td>
              <td data-testid={`gpu-name-${g.index}`}>{g.name}</td>
              <td className="num mono" data-testid={`gpu-memory-${g.index}`} title={`${Math.round(memPct)} % used`}>
                {formatMiB(g.memoryUsedMiB)} / {formatMiB(g.memoryTotalMiB)}
              </td>
              <td data-testid={`gpu-util-${g.index}`}>
                <span className="meter" aria-hidden="true">
                  <span className="meter-fill" style={{ width: `${Math.max(0, Math.min(100, g.utilizationPct ?? 0))}%` }} />
                </span>
                <span className="mono">{formatPercent(g.utilizationPct)}</span>
              </td>
              <td className="mono" data-testid={`gpu-driver-${g.index}`}>
                {g.driverVersion}
              </td>
              <td className="mono muted" title={g.uuid}>
                {shortUuid(g.uuid)}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
