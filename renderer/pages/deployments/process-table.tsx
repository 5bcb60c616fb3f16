import { Fragment } from 'react';
import type { ProcessView } from '../../../common/deployment-view';
import { endedBadly, processTone } from './deployment-look';
import { StateChip } from './state-chip';

function exitText(p: ProcessView): string {
  if (p.exitCode !== null) return String(p.exitCode);
  if (p.signal) return p.signal;
  if (p.exitedAt && !p.exitKnown) return 'unknown';
  return '—';
}

/** Every process of a deployment with its state; one that crashed shows its last log lines under it. */
export function ProcessTable({ processes }: { processes: readonly ProcessView[] }) {
  return (
    <table className="table table-processes" data-testid="process-table">
      <thead>
        <tr>
          <th>Process</th>
          <th>Role</th>
          <th>Host</th>
          <th>GPUs</th>
          <th>State</th>
          <th className="num">PID</th>
          <th className="num">Port</th>
          <th className="num">Restarts</th>
          <th className="num">Exit</th>
        </tr>
      </thead>
      <tbody>
        {processes.map((p) => {
          const bad = endedBadly(p) && p.lastLogLines.length > 0;
          return (
            <Fragment key={p.name}>
              <tr data-testid={`process-row-${p.name}`} data-state={p.state} className={bad ? 'row-bad' : undefined}>
                <td className="mono">{p.name}</td>
                <td>{p.role}</td>
                <td>{p.host}</td>
                <td className="mono">{p.gpuIds.length ? p.gpuIds.join(',') : '—'}</td>
                <td>
                  <StateChip state={p.state} tone={processTone(p.state)} testId={`process-state-${p.name}`} />
                  {p.detail && p.state !== 'ready' && p.detail !== p.state ? <div className="muted small process-detail">{p.detail}</div> : null}
                </td>
                <td className="num mono" data-testid={`process-pid-${p.name}`}>
                  {p.pid ?? '—'}
                </td>
                <td className="num mono">{p.port}</td>
                <td className="num mono">{p.restarts}</td>
                <td className="num mono" data-testid={`process-exit-${p.name}`}>
                  {exitText(p)}
                </td>
              </tr>
              {bad ? (
                <tr className="row-lastlines">
                  <td colSpan={9}>
                    <div className="small muted">Last log lines of {p.name}:</div>
                    <pre className="lastlines" data-testid={`process-lastlines-${p.name}`}>
                      {p.lastLogLines.join('\n')}
                    </pre>
                  </td>
                </tr>
              ) : null}
            </Fragment>
          );
        })}
      </tbody>
    </table>
  );
}
