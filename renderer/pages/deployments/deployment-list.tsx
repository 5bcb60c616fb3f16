import { useEffect, useState } from 'react';
import type { DeploymentSummary } from '../../../common/deployment-view';
import { ErrorCallout } from '../../components/error-callout';
import { formatAgo } from '../../format';
import { useApp } from '../../store/app-store';
import { deploymentTone } from './deployment-look';
import { SimulatedBadge, useSimulatedNotice } from './simulated';
import { StateChip } from './state-chip';

/** Running ones first, each group newest first. */
export function sortDeployments(list: readonly DeploymentSummary[]): DeploymentSummary[] {
  return [...list].sort((a, b) => Number(a.stoppedAt !== null) - Number(b.stoppedAt !== null) || b.createdAt.localeCompare(a.createdAt));
}

function Row({ d }: { d: DeploymentSummary }) {
  const navigate = useApp((s) => s.navigate);
  const open = (): void => navigate({ page: 'deployments', view: 'deployment', id: d.id });
  return (
    <tr className={`row-link${d.stoppedAt ? ' row-stopped' : ''}`} data-testid={`deployment-row-${d.name}`} data-id={d.id} onClick={open}>
      <td>
        <a
          href={`#/deployments/deployment/${encodeURIComponent(d.id)}`}
          onClick={(e) => {
            e.preventDefault();
            open();
          }}
          data-testid={`deployment-open-${d.name}`}
        >
          {d.name}
        </a>
        <div className="muted small mono">{d.id}</div>
      </td>
      <td>
        <span className="mono">{d.engine}</span> {d.simulated ? <SimulatedBadge testId={`deployment-simulated-${d.name}`} /> : null}
      </td>
      <td>{d.mode}</td>
      <td>{d.hosts.join(', ')}</td>
      <td className="mono small">{d.stoppedAt ? <span className="muted">—</span> : d.endpoint.openaiBaseUrl}</td>
      <td>
        <StateChip state={d.state} tone={deploymentTone(d.state)} testId={`deployment-state-${d.name}`} title={d.error ?? undefined} />
      </td>
      <td className="num mono">{d.processCount}</td>
      <td className="muted">{formatAgo(d.createdAt)}</td>
    </tr>
  );
}

export function DeploymentList() {
  const deployments = useApp((s) => s.deployments);
  const loaded = useApp((s) => s.deploymentsLoaded);
  const error = useApp((s) => s.deploymentsError);
  const loadDeployments = useApp((s) => s.loadDeployments);
  const connected = useApp((s) => s.connection.state === 'open');
  const navigate = useApp((s) => s.navigate);
  const [showStopped, setShowStopped] = useState(false);

  // The saved list comes with the sync; opening the page also asks the hosts how things are now.
  useEffect(() => {
    if (connected) void loadDeployments(true);
  }, [connected, loadDeployments]);

  const sorted = sortDeployments(deployments);
  const running = sorted.filter((d) => d.stoppedAt === null);
  const stoppedCount = sorted.length - running.length;
  const shown = showStopped ? sorted : running;
  useSimulatedNotice(running.some((d) => d.simulated));

  return (
    <div className="page" data-testid="page-deployments">
      <header className="page-head">
        <h1>Deployments</h1>
        <span className="spacer" />
        {stoppedCount > 0 ? (
          <label className="inline-field">
            <input type="checkbox" checked={showStopped} onChange={(e) => setShowStopped(e.target.checked)} data-testid="deployments-show-stopped" />
            <span className="small">Show {stoppedCount} stopped</span>
          </label>
        ) : null}
        <button type="button" className="btn btn-primary" onClick={() => navigate({ page: 'deployments', view: 'new' })} data-testid="deployments-new">
          New deployment
        </button>
      </header>
      {error ? <ErrorCallout error={error} title="Could not list deployments" testId="deployments-error" /> : null}
      {shown.length > 0 ? (
        <section className="card card-flush">
          <table className="table table-hosts" data-testid="deployments-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Engine</th>
                <th>Mode</th>
                <th>Hosts</th>
                <th>Endpoint (on its host)</th>
                <th>State</th>
                <th className="num">Processes</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((d) => (
                <Row key={d.id} d={d} />
              ))}
            </tbody>
          </table>
        </section>
      ) : (
        <div className="card empty-state" data-testid="deployments-empty">
          <p>
            <strong>{loaded ? 'Nothing is running.' : 'Loading…'}</strong>
          </p>
          <p className="muted">
            A deployment runs a model on your hosts: one kind of worker behind a router (aggregated), or prefill and decode workers handing the KV cache to each other over
            NIXL (disaggregated). Without a GPU, try the simulated engine.
          </p>
          <button type="button" className="btn btn-primary" onClick={() => navigate({ page: 'deployments', view: 'new' })} data-testid="deployments-new-empty">
            New deployment
          </button>
        </div>
      )}
    </div>
  );
}
