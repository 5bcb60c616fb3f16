import { useState } from 'react';
import type { DeployTaskResult } from '../../../../common/deployment-view';
import { DeployTaskResult as DeployTaskResultSchema } from '../../../../common/deployment-view';
import type { ErrorPayload } from '../../../../common/errors';
import { TaskProgressView } from '../../../components/task-progress';
import { formatDurationMs } from '../../../format';
import { useApp } from '../../../store/app-store';
import { LogViewer } from '../log-viewer';

export interface Deployed {
  id: string;
  taskId: string;
  name: string;
  simulated: boolean;
  processes: string[];
}

/** The deploy task's result, when it has the shape the controller promises. */
function readyResult(result: unknown): DeployTaskResult | null {
  const r = DeployTaskResultSchema.safeParse(result);
  return r.success ? r.data : null;
}

/**
 * Step 5: the deploy task (one step per process, from starting to ready) and the processes' logs
 * as they start. Cancel stops everything the deployment started (deployments.teardown).
 */
export function StepDeploy({ deployed, onBack, onNew }: { deployed: Deployed; onBack: () => void; onNew: () => void }) {
  const task = useApp((s) => s.tasks[deployed.taskId]);
  const teardown = useApp((s) => s.teardownDeployment);
  const navigate = useApp((s) => s.navigate);
  const [cancelling, setCancelling] = useState(false);
  const [cancelError, setCancelError] = useState<ErrorPayload | null>(null);
  if (!task) return <div className="card muted">Starting…</div>;
  const result = task.state === 'succeeded' ? readyResult(task.result) : null;
  const onCancel = (): void => {
    setCancelling(true);
    setCancelError(null);
    void teardown(deployed.id).then((r) => {
      setCancelling(false);
      if (!r.ok) setCancelError(r.error);
    });
  };
  const live = task.state === 'running' || task.state === 'succeeded';
  return (
    <div className="wizard-body" data-testid="wizard-step-deploy" data-deployment={deployed.id}>
      <TaskProgressView task={task} onCancel={onCancel} cancelling={cancelling} cancelError={cancelError} failureHint="Go back to the review to change the spec, or read the logs below." />
      {result ? (
        <div className="callout callout-ok deploy-ready" data-testid="wizard-ready">
          <div>
            <strong>{deployed.name} is ready</strong> after {formatDurationMs(result.readyMs)}. Endpoint: <code data-testid="wizard-endpoint">{result.endpoint.openaiBaseUrl}</code> on{' '}
            {result.endpoint.host}, model <code>{result.endpoint.model}</code>.
            {deployed.simulated ? ' Simulated: its numbers come from the mocker\'s model.' : ''}
          </div>
          <div className="form-actions">
            <button type="button" className="btn btn-primary" onClick={() => navigate({ page: 'deployments', view: 'deployment', id: deployed.id })} data-testid="wizard-open-deployment">
              Open deployment
            </button>
            <button type="button" className="btn" onClick={onNew} data-testid="wizard-new">
              New deployment
            </button>
          </div>
        </div>
      ) : null}
      {task.state === 'failed' || task.state === 'cancelled' ? (
        <div className="form-actions">
          <button type="button" className="btn" onClick={onBack} data-testid="wizard-back-to-review">
            Back to the review
          </button>
          <span className="muted small">{task.state === 'cancelled' ? 'Everything it started was stopped.' : 'What it started was stopped; its logs stay on the hosts.'}</span>
        </div>
      ) : null}
      <LogViewer id={deployed.id} processes={deployed.processes} live={live} heightPx={260} />
    </div>
  );
}
