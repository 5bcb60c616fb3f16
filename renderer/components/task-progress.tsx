import { useState } from 'react';
import type { ErrorPayload } from '../../common/errors';
import { isTaskFinished, type Task, type TaskStep } from '../../common/task';
import { formatDurationMs } from '../format';
import { useApp } from '../store/app-store';
import { ErrorCallout } from './error-callout';

const STATE_TEXT: Record<Task['state'], string> = {
  running: 'running',
  'needs-input': 'waiting for you',
  succeeded: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
};

const STEP_ICON: Record<TaskStep['state'], string> = {
  pending: '○',
  running: '',
  done: '✓',
  failed: '✕',
  skipped: '–',
};

/** Share of the task done: finished steps count fully, a running step by its own progress. */
export function taskFraction(task: Task): number {
  if (task.state === 'succeeded') return 1;
  if (task.steps.length === 0) return 0;
  let sum = 0;
  for (const s of task.steps) {
    if (s.state === 'done' || s.state === 'skipped') sum += 1;
    else if (s.state === 'running') sum += s.progress ?? 0;
  }
  return Math.min(1, sum / task.steps.length);
}

function stepDuration(s: TaskStep): string | null {
  if (s.startedAt === undefined || s.endedAt === undefined) return null;
  return formatDurationMs(s.endedAt - s.startedAt);
}

export interface TaskProgressViewProps {
  task: Task;
  onCancel?: () => void;
  /** Cancel was asked for and the task has not stopped yet. */
  cancelling?: boolean;
  cancelError?: ErrorPayload | null;
  /** Shown under a failure: the context-specific next step, when the error alone may not say it. */
  failureHint?: string;
}

/** The one way a long action is shown: steps, progress, the question it waits on, the error, cancel. */
export function TaskProgressView({ task, onCancel, cancelling, cancelError, failureHint }: TaskProgressViewProps) {
  const finished = isTaskFinished(task);
  const pct = Math.round(taskFraction(task) * 100);
  return (
    <section className={`task task-${task.state}`} data-testid="task-progress" data-task-id={task.id} data-state={task.state} aria-label={task.title}>
      <header className="task-head">
        <span className="task-title">{task.title}</span>
        <span className={`badge badge-task-${task.state}`} data-testid="task-state">
          {STATE_TEXT[task.state]}
        </span>
        {!finished && onCancel ? (
          <button type="button" className="btn btn-small" onClick={onCancel} disabled={cancelling} data-testid="task-cancel" data-cancelling={cancelling ? 'true' : undefined}>
            {cancelling ? 'Cancelling…' : 'Cancel'}
          </button>
        ) : null}
      </header>
      <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} data-testid="task-progress-bar">
        <div className={`progress-fill progress-${task.state}`} style={{ width: `${pct}%` }} />
      </div>
      <ol className="task-steps">
        {task.steps.map((s) => (
          <li key={s.id} className={`task-step step-${s.state}`} data-testid={`task-step-${s.id}`} data-state={s.state}>
            <span className={`step-icon step-icon-${s.state}`} aria-hidden="true">
              {STEP_ICON[s.state]}
            </span>
            <span className="step-label">{s.label}</span>
            <span className="step-detail" data-testid={`task-step-${s.id}-detail`}>
              {/* The task's error is shown in full below; repeating it beside the step only adds noise. */}
              {s.state === 'failed' && s.detail === task.error?.message ? 'see below' : (s.detail ?? '')}
            </span>
            <span className="step-time">{stepDuration(s) ?? (s.state === 'running' && s.progress !== undefined ? `${Math.round(s.progress * 100)} %` : '')}</span>
            {s.state === 'running' && s.progress !== undefined ? (
              <div className="progress progress-step">
                <div className="progress-fill" style={{ width: `${Math.round(s.progress * 100)}%` }} />
              </div>
            ) : null}
          </li>
        ))}
      </ol>
      {task.state === 'needs-input' ? (
        <div className="callout callout-warn" data-testid="task-waiting">
          Waiting for your answer in the dialog.
        </div>
      ) : null}
      {task.state === 'failed' && task.error ? (
        <ErrorCallout error={task.error} title={`${task.title} failed`} testId="task-error" {...(failureHint ? { hint: failureHint } : {})} />
      ) : null}
      {task.state === 'cancelled' ? (
        <div className="callout" data-testid="task-cancelled">
          Cancelled. Nothing else will run for this task; start it again when ready.
        </div>
      ) : null}
      {cancelError ? <ErrorCallout error={cancelError} title="Could not cancel" testId="task-cancel-error" /> : null}
    </section>
  );
}

/** TaskProgressView bound to the store: follows task.updated events and cancels through tasks.cancel. */
export function TaskProgress({ taskId, failureHint }: { taskId: string; failureHint?: string }) {
  const task = useApp((s) => s.tasks[taskId]);
  const cancelTask = useApp((s) => s.cancelTask);
  const [cancelError, setCancelError] = useState<ErrorPayload | null>(null);
  const [cancelling, setCancelling] = useState(false);
  if (!task) return null;
  const onCancel = (): void => {
    setCancelError(null);
    setCancelling(true);
    void cancelTask(task.id).then((r) => {
      if (!r.ok) {
        setCancelling(false);
        setCancelError(r.error);
      }
    });
  };
  return <TaskProgressView task={task} onCancel={onCancel} cancelling={cancelling} cancelError={cancelError} {...(failureHint ? { failureHint } : {})} />;
}
