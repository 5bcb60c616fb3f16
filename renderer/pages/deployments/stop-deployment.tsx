import { useCallback, useState } from 'react';
import type { DeploymentView, TeardownOutcome } from '../../../common/deployment-view';
import type { ErrorPayload } from '../../../common/errors';
import type { Task } from '../../../common/task';
import { TaskProgressView } from '../../components/task-progress';
import { Modal } from '../../components/modal';
import { processEnded } from './deployment-look';

export type StopPhase = { state: 'idle' } | { state: 'stopping'; startedAt: number } | { state: 'done'; outcome: TeardownOutcome; startedAt: number } | { state: 'failed'; error: ErrorPayload; startedAt: number };

/**
 * Teardown is one call (SIGTERM to each process group, SIGKILL after the grace period), not a
 * task; this shows it the way every long action is shown, with one step per process following
 * the states the status polls bring.
 */
export function teardownTask(view: DeploymentView, phase: Exclude<StopPhase, { state: 'idle' }>): Task {
  const finished = phase.state !== 'stopping';
  const killed = new Set(phase.state === 'done' ? phase.outcome.hosts.flatMap((h) => h.killed) : []);
  return {
    id: `teardown-${view.id}`,
    kind: 'teardown',
    title: `Stop "${view.name}"`,
    state: phase.state === 'stopping' ? 'running' : phase.state === 'done' ? 'succeeded' : 'failed',
    createdAt: phase.startedAt,
    steps: view.processes.map((p) => {
      const ended = processEnded(p.state) || phase.state === 'done';
      return {
        id: `stop-${p.name}`,
        label: `${p.name} on ${p.host}`,
        state: ended ? 'done' : phase.state === 'failed' ? 'failed' : finished ? 'done' : 'running',
        detail: killed.has(p.name) ? 'killed (SIGKILL) after the grace period' : ended ? 'stopped' : p.state === 'stopping' ? 'SIGTERM sent' : p.state,
      };
    }),
    ...(phase.state === 'failed' ? { error: phase.error } : {}),
  };
}

export function StopDialog({ view, onConfirm, onClose }: { view: DeploymentView; onConfirm: () => void; onClose: () => void }) {
  const close = useCallback(() => onClose(), [onClose]);
  return (
    <Modal title={`Stop ${view.name}?`} onEscape={close} testId="stop-dialog">
      <p>
        Every process of <strong>{view.name}</strong> ({view.processes.length} on {view.hosts.join(', ')}) gets SIGTERM; any still running after 10 s is killed. Its GPUs and
        ports are free again afterwards.
      </p>
      <p className="muted">Logs stay on the hosts. Clients using {view.endpoint.openaiBaseUrl} will lose their connections.</p>
      <div className="modal-actions">
        <button type="button" className="btn" onClick={close} data-testid="stop-cancel" data-autofocus>
          Keep it running
        </button>
        <button type="button" className="btn btn-danger" onClick={onConfirm} data-testid="stop-confirm">
          Stop
        </button>
      </div>
    </Modal>
  );
}

export function StopProgress({ view, phase }: { view: DeploymentView; phase: Exclude<StopPhase, { state: 'idle' }> }) {
  return <TaskProgressView task={teardownTask(view, phase)} />;
}

/** Runs one stop at a time and remembers how it went. */
export function useStop(teardown: (id: string) => Promise<{ ok: true; value: TeardownOutcome } | { ok: false; error: ErrorPayload }>, id: string) {
  const [phase, setPhase] = useState<StopPhase>({ state: 'idle' });
  const stop = useCallback(() => {
    const startedAt = Date.now();
    setPhase({ state: 'stopping', startedAt });
    void teardown(id).then((r) => setPhase(r.ok ? { state: 'done', outcome: r.value, startedAt } : { state: 'failed', error: r.error, startedAt }));
  }, [teardown, id]);
  return { phase, stop };
}
