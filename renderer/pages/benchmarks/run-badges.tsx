import type { RunSummary, RunViewStatus } from '../../../common/run-view';
import { SIMULATED_TEXT } from '../deployments/simulated';
import { STATUS_HELP, STATUS_TONE } from './bench-format';

export function RunStatusChip({ status, testId, title }: { status: RunViewStatus; testId?: string; title?: string | null }) {
  return (
    <span className={`chip chip-${STATUS_TONE[status]}`} data-testid={testId} data-status={status} title={title ?? STATUS_HELP[status]}>
      <span className="chip-dot" aria-hidden="true" />
      {status}
    </span>
  );
}

/** SIMULATED for runs against mocker deployments; IMPORTED for runs read from a tool's files. */
export function RunOriginBadges({ run, testPrefix }: { run: Pick<RunSummary, 'simulated' | 'imported' | 'tool'>; testPrefix: string }) {
  return (
    <>
      {run.simulated ? (
        <span className="badge badge-simulated" data-testid={`${testPrefix}-simulated`} title={SIMULATED_TEXT}>
          Simulated
        </span>
      ) : null}
      {run.imported ? (
        <span className="badge badge-imported" data-testid={`${testPrefix}-imported`} title={`Imported from ${run.tool} result files; Handoff did not run it.`}>
          Imported
        </span>
      ) : null}
    </>
  );
}
