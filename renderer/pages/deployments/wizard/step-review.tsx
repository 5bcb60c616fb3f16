import type { PlanOutcome } from '../../../../common/deployment-view';
import { formatSpecPath, type Problem } from '../../../../common/deployment/problems';
import type { ErrorPayload } from '../../../../common/errors';
import { ErrorCallout } from '../../../components/error-callout';
import type { FieldProblem } from '../../../store/deployment-draft';

export interface PlanState {
  /** The text the outcome is for; the review is stale while it differs from the current text. */
  text: string;
  outcome: PlanOutcome | null;
  error: ErrorPayload | null;
}

function where(p: Problem, source: string): string {
  const at = p.line !== undefined ? `${source}:${p.line}${p.column !== undefined ? `:${p.column}` : ''}` : '';
  const path = p.path && p.path.length ? formatSpecPath(p.path) : '';
  return [at, path].filter(Boolean).join(' · ');
}

export function ProblemList({ problems, fieldProblems, source }: { problems: readonly Problem[]; fieldProblems: readonly FieldProblem[]; source: string }) {
  const sorted = [...problems].sort((a, b) => Number(a.severity === 'warning') - Number(b.severity === 'warning'));
  return (
    <ul className="problems" data-testid="review-problems">
      {fieldProblems.map((p) => (
        <li key={`f-${p.field}-${p.message}`} className="problem problem-error" data-testid="review-problem" data-code="form" data-severity="error">
          <span className="problem-sev">error</span>
          <span className="problem-where mono">form · {p.field}</span>
          <div className="problem-message">{p.message}</div>
        </li>
      ))}
      {sorted.map((p, i) => (
        <li key={`${p.code}-${i}`} className={`problem problem-${p.severity}`} data-testid="review-problem" data-code={p.code} data-severity={p.severity}>
          <span className="problem-sev">{p.severity}</span>
          <code className="problem-code">{p.code}</code>
          <span className="problem-where mono">{where(p, source)}</span>
          <div className="problem-message">{p.message}</div>
        </li>
      ))}
    </ul>
  );
}

function PlanProcesses({ outcome }: { outcome: PlanOutcome }) {
  if (!outcome.plan) return null;
  return (
    <table className="table table-compact" data-testid="review-processes">
      <thead>
        <tr>
          <th>Process</th>
          <th>Role</th>
          <th>Host</th>
          <th>GPUs</th>
          <th>CPUs</th>
          <th>Listens</th>
          <th>Starts after</th>
        </tr>
      </thead>
      <tbody>
        {outcome.plan.processes.map((p) => (
          <tr key={p.name} data-testid={`review-process-${p.name}`}>
            <td className="mono">{p.name}</td>
            <td>{p.role}</td>
            <td>{p.host}</td>
            <td className="mono">{p.gpuIds.length ? p.gpuIds.join(',') : '—'}</td>
            <td className="mono" title={p.cpus !== undefined ? `started under taskset -c ${p.cpus}` : 'any CPU'}>
              {p.cpus ?? 'any'}
            </td>
            <td className="mono">
              {p.bindHost}:{p.port}
            </td>
            <td className="muted">{p.dependsOn.length ? p.dependsOn.join(', ') : '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export interface StepReviewProps {
  text: string;
  fromYaml: boolean;
  fieldProblems: readonly FieldProblem[];
  plan: PlanState | null;
  planning: boolean;
  applyError: ErrorPayload | null;
  source: string;
  onReplan: () => void;
  onEditYaml: () => void;
  onYamlChange: (text: string) => void;
  onBackToForm: () => void;
}

export function StepReview(props: StepReviewProps) {
  const { text, fromYaml, fieldProblems, plan, planning, applyError, source, onReplan, onEditYaml, onYamlChange, onBackToForm } = props;
  const outcome = plan?.outcome ?? null;
  const problems = outcome?.problems ?? [];
  const errors = problems.filter((p) => p.severity === 'error').length + fieldProblems.length;
  const warnings = problems.filter((p) => p.severity === 'warning').length;
  const verdict = planning ? 'planning' : plan?.error ? 'failed' : errors > 0 || (outcome && !outcome.ok) ? 'errors' : outcome?.ok ? 'ok' : 'planning';
  return (
    <div className="wizard-body review-layout" data-testid="wizard-step-review">
      <section className="card review-spec">
        <h2 className="card-title">
          Spec <span className="muted small">YAML, as handoff deploy reads it</span>
          <span className="spacer" />
          {fromYaml ? (
            <button type="button" className="btn btn-small" onClick={onBackToForm} data-testid="review-back-to-form">
              Use the form instead
            </button>
          ) : (
            <button type="button" className="btn btn-small" onClick={onEditYaml} data-testid="review-edit-yaml">
              Edit as YAML
            </button>
          )}
        </h2>
        {fromYaml ? (
          <>
            <textarea className="yaml-editor" value={text} onChange={(e) => onYamlChange(e.target.value)} spellCheck={false} rows={28} data-testid="review-yaml" aria-label="Deployment spec (YAML or JSON)" />
            <p className="muted small">Paste or edit a spec (YAML or JSON, docs/deployment-spec.md). It is checked as you type; the form is not used while you edit here.</p>
          </>
        ) : (
          <pre className="code-block yaml-view" data-testid="review-spec">
            {text}
          </pre>
        )}
      </section>
      <div className="review-results">
        <div
          className={`callout ${verdict === 'ok' ? 'callout-ok' : verdict === 'planning' ? '' : 'callout-bad'}`}
          data-testid="review-verdict"
          data-verdict={verdict}
          role="status"
        >
          {verdict === 'planning' ? (
            <span>Checking the spec against your hosts… (a host that was never checked is checked now, which can take a few seconds)</span>
          ) : verdict === 'failed' ? (
            <span>The plan could not be made.</span>
          ) : verdict === 'errors' ? (
            <span>
              <strong>{errors} problem{errors === 1 ? '' : 's'}</strong> must be fixed before deploying{warnings ? `, and ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}.
            </span>
          ) : outcome?.plan ? (
            <span>
              <strong>Ready to deploy:</strong> {outcome.plan.processes.length} processes on {outcome.plan.hosts.join(', ')}; endpoint {outcome.plan.endpoint.openaiBaseUrl} on{' '}
              {outcome.plan.endpoint.host}
              {warnings ? `. ${warnings} warning${warnings === 1 ? '' : 's'} below.` : '.'}
            </span>
          ) : null}
          <button type="button" className="btn btn-small review-recheck" onClick={onReplan} disabled={planning} data-testid="review-recheck">
            Check again
          </button>
        </div>
        {plan?.error ? <ErrorCallout error={plan.error} title="Could not plan" testId="review-plan-error" /> : null}
        {applyError ? (
          <ErrorCallout error={applyError} title="Could not start the deployment" testId="review-apply-error" hint="Fix what it says, then press Deploy again." />
        ) : null}
        {fieldProblems.length || problems.length ? <ProblemList problems={problems} fieldProblems={fieldProblems} source={source} /> : null}
        {outcome?.notes.length ? (
          <div className="callout callout-warn" data-testid="review-notes">
            {outcome.notes.map((n) => (
              <div key={n}>{n}</div>
            ))}
          </div>
        ) : null}
        {outcome?.plan ? (
          <section className="card card-flush">
            <h2 className="card-title card-pad">
              Processes <span className="count">{outcome.plan.processes.length}</span>
              {outcome.simulated ? <span className="badge badge-simulated">Simulated</span> : null}
            </h2>
            <PlanProcesses outcome={outcome} />
          </section>
        ) : null}
        {outcome?.text ? (
          <section className="card">
            <h2 className="card-title">
              Commands and environment <span className="muted small">exactly what each host runs (argv, no shell)</span>
            </h2>
            <pre className="code-block plan-text" data-testid="review-plan-text">
              {outcome.text}
            </pre>
          </section>
        ) : null}
      </div>
    </div>
  );
}
