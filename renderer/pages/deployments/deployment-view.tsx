import { useEffect, useState } from 'react';
import { DeploymentCharts } from '../../charts/deployment-charts';
import { ErrorCallout } from '../../components/error-callout';
import { TaskProgress } from '../../components/task-progress';
import { formatAgo } from '../../format';
import { useApp } from '../../store/app-store';
import { deploymentTone } from './deployment-look';
import { EndpointCard } from './endpoint-card';
import { LogViewer } from './log-viewer';
import { ProcessTable } from './process-table';
import { SimulatedBadge, useSimulatedNotice } from './simulated';
import { StateChip } from './state-chip';
import { StopDialog, StopProgress, useStop } from './stop-deployment';
import './deployments.css';

/** Status is asked for this often while the view is open (faster while stopping). */
const POLL_MS = 2_000;
const POLL_STOPPING_MS = 700;

export function DeploymentViewPage({ id }: { id: string }) {
  const view = useApp((s) => s.deploymentViews[id]);
  const viewError = useApp((s) => s.deploymentViewErrors[id]);
  const loadDeployment = useApp((s) => s.loadDeployment);
  const teardown = useApp((s) => s.teardownDeployment);
  const deployTaskId = useApp((s) => s.deployTaskIds[id]);
  const deployTaskRunning = useApp((s) => (deployTaskId ? s.tasks[deployTaskId]?.state === 'running' : false));
  const connected = useApp((s) => s.connection.state === 'open');
  const { phase, stop } = useStop(teardown, id);
  const [confirming, setConfirming] = useState(false);
  const stopped = view?.state === 'stopped';
  const stopping = phase.state === 'stopping';

  useEffect(() => {
    if (!connected) return;
    void loadDeployment(id);
    if (stopped && !stopping) return;
    const t = setInterval(() => void loadDeployment(id), stopping ? POLL_STOPPING_MS : POLL_MS);
    return () => clearInterval(t);
  }, [id, connected, stopped, stopping, loadDeployment]);

  useSimulatedNotice(view?.simulated === true);

  if (!view) {
    return (
      <div className="page" data-testid="deployment-missing">
        <nav className="crumbs">
          <a href="#/deployments">Deployments</a>
        </nav>
        {viewError ? <ErrorCallout error={viewError} title="Could not load this deployment" testId="deployment-error" /> : <div className="card muted">Loading…</div>}
      </div>
    );
  }
  const canStop = !stopped && !stopping;
  return (
    <div className="page" data-testid="deployment-view" data-deployment={view.id} data-state={view.state}>
      <nav className="crumbs">
        <a href="#/deployments" data-testid="crumb-deployments">
          Deployments
        </a>
        <span aria-hidden="true"> / </span>
        <span>{view.name}</span>
      </nav>
      <header className="page-head">
        <h1 data-testid="deployment-title">{view.name}</h1>
        <StateChip state={view.state} tone={deploymentTone(view.state)} testId="deployment-state" />
        {view.simulated ? <SimulatedBadge /> : null}
        <span className="muted">
          {view.engine} · {view.mode} · {view.model}
        </span>
        <span className="spacer" />
        <span className="muted small mono" title="deployment id">
          {view.id}
        </span>
        <span className="muted small">created {formatAgo(view.createdAt)}</span>
        <button type="button" className="btn btn-danger-outline" onClick={() => setConfirming(true)} disabled={!canStop} data-testid="deployment-stop">
          {stopping ? 'Stopping…' : 'Stop'}
        </button>
      </header>
      {view.simulated ? (
        <div className="callout callout-warn" data-testid="deployment-simulated-note">
          This deployment runs the simulated engine (mocker) on {view.hosts.join(', ')}. Its workers speak vLLM's API and export vLLM's metrics, but no model runs and no GPU
          is used; latencies come from the mocker's model.
        </div>
      ) : null}
      {view.error && view.state !== 'ready' ? (
        <div className={`callout ${view.state === 'failed' ? 'callout-bad' : 'callout-warn'}`} data-testid="deployment-problem">
          <div className="callout-body pre-wrap">{view.error}</div>
        </div>
      ) : null}
      {view.unreachable.length ? (
        <div className="callout callout-warn" data-testid="deployment-unreachable">
          {view.unreachable.map((u) => (
            <div key={u.host}>
              {u.host} cannot be reached ({u.message}); its processes show their last known state.
            </div>
          ))}
        </div>
      ) : null}
      {deployTaskId && deployTaskRunning ? <TaskProgress taskId={deployTaskId} /> : null}
      {phase.state !== 'idle' ? <StopProgress view={view} phase={phase} /> : null}
      <EndpointCard view={view} />
      <section className="card card-flush">
        <h2 className="card-title card-pad">
          Processes <span className="count">{view.processes.length}</span>
        </h2>
        <ProcessTable processes={view.processes} />
      </section>
      <DeploymentCharts id={view.id} processes={view.processes} mode={view.mode} live={!stopped} />
      <LogViewer id={view.id} processes={view.processes.map((p) => p.name)} live={!stopped} />
      {confirming ? (
        <StopDialog
          view={view}
          onClose={() => setConfirming(false)}
          onConfirm={() => {
            setConfirming(false);
            stop();
          }}
        />
      ) : null}
    </div>
  );
}
