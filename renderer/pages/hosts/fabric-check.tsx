import { useEffect, useState } from 'react';
import type { ErrorPayload } from '../../../common/errors';
import type { HostStatus } from '../../../common/host';
import { FabricProbeRecord } from '../../../common/kv/fabric-probe';
import { findBuiltinModel, kvBytesPerBlock } from '../../../common/model-config';
import { ErrorCallout } from '../../components/error-callout';
import { TaskProgress } from '../../components/task-progress';
import { useApp } from '../../store/app-store';
import { fabricRequestKey, type FabricProbeRequest } from '../../store/fabric-slice';
import { fabricFailureHint, fabricUnavailableReason } from './fabric-hints';
import { FabricResultView } from './fabric-result';

/** Bytes of one block for a request made by model name; null when the model has no built-in config. */
export function requestBytesPerBlock(req: FabricProbeRequest): number | null {
  if (req.shape) return 2 * req.shape.layers * req.shape.blockSize * req.shape.kvHeadsPerRank * req.shape.headDim * req.shape.dtypeBytes;
  const m = req.model ? findBuiltinModel(req.model) : undefined;
  return m ? kvBytesPerBlock(m, req.tp ?? 1, req.blockSize ?? 16) : null;
}

/** The newest stored record for this pair and block size, if any. */
export function storedRecordFor(records: readonly FabricProbeRecord[] | undefined, req: FabricProbeRequest): FabricProbeRecord | null {
  const bytes = requestBytesPerBlock(req);
  if (!records || bytes === null) return null;
  return records.find((r) => r.srcGpu === req.srcGpu && r.dstGpu === req.dstGpu && r.result.shape.bytesPerBlock === bytes) ?? null;
}

const NO_RECORDS: FabricProbeRecord[] = [];

/**
 * Runs one fabric check (hosts.fabricProbe) and shows its progress, cancel, error with the next step,
 * and the result; before that, the stored result of the same pair and block size.
 */
export function FabricCheck({ request, host, simulated, testId, showStored = true }: { request: FabricProbeRequest; host: HostStatus | undefined; simulated: boolean; testId: string; showStored?: boolean }) {
  const key = fabricRequestKey(request);
  const taskId = useApp((s) => s.fabricTaskIds[key]);
  const task = useApp((s) => (taskId ? s.tasks[taskId] : undefined));
  const records = useApp((s) => s.fabricRecords[request.host] ?? NO_RECORDS);
  const startFabricProbe = useApp((s) => s.startFabricProbe);
  const loadFabric = useApp((s) => s.loadFabric);
  const [startError, setStartError] = useState<ErrorPayload | null>(null);
  const [starting, setStarting] = useState(false);
  const unavailable =
    fabricUnavailableReason(host, request.srcGpu, request.dstGpu) ??
    (requestBytesPerBlock(request) === null
      ? `"${request.model ?? ''}" has no built-in config, so its KV block shape is unknown here. Run "handoff probe" with an explicit shape (layers, KV heads per rank, head dim, dtype bytes, block size).`
      : null);
  const running = task !== undefined && (task.state === 'running' || task.state === 'needs-input');
  const succeeded = task?.state === 'succeeded';

  // A finished probe was stored with the host: refresh that host's list (and the run view's reference).
  useEffect(() => {
    if (succeeded) void loadFabric(request.host);
  }, [succeeded, loadFabric, request.host]);

  const fresh = succeeded ? FabricProbeRecord.safeParse(task.result) : null;
  const shown = fresh?.success ? fresh.data : storedRecordFor(records, request);
  const run = (): void => {
    setStartError(null);
    setStarting(true);
    void startFabricProbe(request).then((r) => {
      setStarting(false);
      if (!r.ok) setStartError(r.error);
    });
  };
  const failureHint = task?.error ? fabricFailureHint(task.error.code, host, simulated) : undefined;
  return (
    <div className="fabric-check" data-testid={testId} data-state={task?.state ?? (shown ? 'stored' : 'idle')}>
      <div className="fabric-pair-head">
        <button type="button" className="btn btn-small btn-primary" onClick={run} disabled={starting || running || unavailable !== null} data-testid={`${testId}-run`} title={unavailable ?? undefined}>
          {running ? 'Checking…' : shown || task ? 'Check again' : 'Check fabric'}
        </button>
        {shown && !fresh?.success ? (
          <span className="muted small" data-testid={`${testId}-stored`}>
            {showStored ? 'stored result' : 'a result for this pair and block size is stored (below)'}
          </span>
        ) : null}
      </div>
      {unavailable ? (
        <p className="small muted" data-testid={`${testId}-unavailable`}>
          {unavailable}
        </p>
      ) : null}
      {startError ? <ErrorCallout error={startError} title="Could not start the fabric check" testId={`${testId}-start-error`} hint={fabricFailureHint(startError.code, host, simulated)} /> : null}
      {taskId && task && task.state !== 'succeeded' ? <TaskProgress taskId={taskId} {...(failureHint ? { failureHint } : {})} /> : null}
      {fresh && !fresh.success ? (
        <ErrorCallout error={{ code: 'bad-result', message: `The probe finished but its result could not be read: ${fresh.error.issues[0]?.message ?? 'invalid'}. The controller and this window may be different versions; reload the window.` }} testId={`${testId}-bad-result`} />
      ) : null}
      {shown && (showStored || fresh?.success) ? <FabricResultView record={shown} testId={`${testId}-result`} /> : null}
    </div>
  );
}
