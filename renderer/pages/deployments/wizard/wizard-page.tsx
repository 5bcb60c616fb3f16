import { useEffect, useMemo, useRef, useState } from 'react';
import type { ErrorPayload } from '../../../../common/errors';
import { useApp } from '../../../store/app-store';
import { draftSpecText, initialDraft } from '../../../store/deployment-draft';
import { SimulatedBadge, useSimulatedNotice } from '../simulated';
import { FabricCheckCard } from './fabric-check-card';
import { deploymentsHoldingGpus } from './gpu-usage';
import { StepDeploy, type Deployed } from './step-deploy';
import { nameProblem, StepModel } from './step-model';
import { StepOptions } from './step-options';
import { StepReview, type PlanState } from './step-review';
import { StepTopology } from './step-topology';

export const WIZARD_STEPS = [
  { id: 'model', label: 'Model and engine' },
  { id: 'topology', label: 'Topology' },
  { id: 'options', label: 'Options' },
  { id: 'review', label: 'Review' },
  { id: 'deploy', label: 'Deploy' },
] as const;
export type WizardStep = (typeof WIZARD_STEPS)[number]['id'];

/** Shown in problem positions: `wizard.yaml:12:5`. */
const SPEC_SOURCE = 'wizard.yaml';
const PLAN_DEBOUNCE_MS = 300;

/** Plans the text while the review is shown, again whenever it changes (debounced) or on request. */
function usePlan(text: string, active: boolean): { plan: PlanState | null; planning: boolean; replan: () => void } {
  const planSpec = useApp((s) => s.planSpec);
  const [plan, setPlan] = useState<PlanState | null>(null);
  const [nonce, setNonce] = useState(0);
  const seq = useRef(0);
  useEffect(() => {
    if (!active) return;
    const my = ++seq.current;
    const t = setTimeout(() => {
      void planSpec(text, SPEC_SOURCE).then((r) => {
        if (my !== seq.current) return;
        setPlan({ text, outcome: r.ok ? r.value : null, error: r.ok ? null : r.error });
      });
    }, PLAN_DEBOUNCE_MS);
    return () => clearTimeout(t);
  }, [text, active, nonce, planSpec]);
  const planning = active && (plan === null || plan.text !== text);
  return {
    plan,
    planning,
    replan: () => {
      setPlan(null);
      setNonce((n) => n + 1);
    },
  };
}

export function WizardPage() {
  const draft = useApp((s) => s.draft);
  const hosts = useApp((s) => s.hosts);
  const hostsLoaded = useApp((s) => s.hostsLoaded);
  const deployments = useApp((s) => s.deployments);
  const resetDraft = useApp((s) => s.resetDraft);
  const setDraft = useApp((s) => s.setDraft);
  const loadDeployment = useApp((s) => s.loadDeployment);
  const applySpec = useApp((s) => s.applySpec);
  const [step, setStep] = useState<WizardStep>('model');
  const [deployed, setDeployed] = useState<Deployed | null>(null);
  const [applying, setApplying] = useState(false);
  const [applyError, setApplyError] = useState<ErrorPayload | null>(null);

  useEffect(() => {
    if (!draft && hostsLoaded) resetDraft(initialDraft(hosts));
  }, [draft, hostsLoaded, hosts, resetDraft]);

  // Which GPUs running deployments hold is in their plans: fetch those the list does not carry.
  const holding = deploymentsHoldingGpus(deployments).join(',');
  useEffect(() => {
    for (const id of holding ? holding.split(',') : []) void loadDeployment(id);
  }, [holding, loadDeployment]);

  const spec = useMemo(() => (draft ? draftSpecText(draft) : null), [draft]);
  const { plan, planning, replan } = usePlan(spec?.text ?? '', step === 'review' && spec !== null);
  // A YAML spec says its engine only once planned.
  const simulated = draft ? (draft.yaml === null ? draft.engine === 'mocker' : plan?.outcome?.simulated === true) : false;
  useSimulatedNotice(simulated);

  if (!draft || !spec) {
    return (
      <div className="page" data-testid="wizard">
        <div className="card muted">Loading hosts…</div>
      </div>
    );
  }

  const index = WIZARD_STEPS.findIndex((s) => s.id === step);
  const stepBlocked = step === 'model' && (nameProblem(draft.name) !== undefined || draft.model.trim() === '') && draft.yaml === null;
  const canDeploy =
    step === 'review' && !planning && !applying && plan !== null && plan.text === spec.text && plan.outcome?.ok === true && spec.problems.length === 0 && !plan.outcome.problems.some((p) => p.severity === 'error');
  const locked = deployed !== null;
  const goto = (s: WizardStep): void => {
    setApplyError(null);
    setStep(s);
  };
  const deploy = (): void => {
    if (!canDeploy || !plan?.outcome?.plan) return;
    const processes = plan.outcome.plan.processes.map((p) => p.name);
    setApplying(true);
    setApplyError(null);
    void applySpec(spec.text, SPEC_SOURCE).then((r) => {
      setApplying(false);
      if (!r.ok) {
        setApplyError(r.error);
        return;
      }
      setDeployed({ id: r.value.deployment.id, taskId: r.value.task.id, name: r.value.deployment.name, simulated: r.value.deployment.simulated, processes });
      setStep('deploy');
    });
  };
  const startOver = (): void => {
    resetDraft(initialDraft(hosts));
    setDeployed(null);
    setStep('model');
  };

  return (
    <div className="page wizard" data-testid="wizard" data-step={step}>
      <nav className="crumbs">
        <a href="#/deployments" data-testid="crumb-deployments">
          Deployments
        </a>
        <span aria-hidden="true"> / </span>
        <span>New deployment</span>
      </nav>
      <header className="page-head">
        <h1>New deployment</h1>
        {simulated ? <SimulatedBadge testId="wizard-simulated-badge" /> : null}
        <span className="spacer" />
        {!locked ? (
          <button type="button" className="btn btn-small" onClick={startOver} data-testid="wizard-reset">
            Start over
          </button>
        ) : null}
      </header>
      <ol className="stepper" aria-label="Steps">
        {WIZARD_STEPS.map((s, i) => {
          const reachable = !locked ? i < 4 && (i <= index || !stepBlocked) : s.id === 'deploy';
          return (
            <li key={s.id} className={`stepper-item${s.id === step ? ' stepper-current' : ''}${i < index ? ' stepper-done' : ''}`}>
              <button type="button" onClick={() => goto(s.id)} disabled={!reachable || s.id === step} aria-current={s.id === step ? 'step' : undefined} data-testid={`wizard-tab-${s.id}`}>
                <span className="stepper-num">{i + 1}</span>
                {s.label}
              </button>
            </li>
          );
        })}
      </ol>
      {draft.yaml !== null && step !== 'review' && step !== 'deploy' ? (
        <div className="callout callout-warn" data-testid="wizard-yaml-active">
          You are deploying a spec written as YAML; the form below is not used.{' '}
          <button type="button" className="btn-link" onClick={() => goto('review')}>
            Back to the YAML
          </button>{' '}
          or{' '}
          <button type="button" className="btn-link" onClick={() => setDraft((d) => ({ ...d, yaml: null }))} data-testid="wizard-drop-yaml">
            use the form
          </button>
          .
        </div>
      ) : null}
      {step === 'model' ? (
        <StepModel
          draft={draft}
          hosts={hosts}
          onPasteSpec={() => {
            setDraft((d) => ({ ...d, yaml: draftSpecText(d).text }));
            goto('review');
          }}
        />
      ) : step === 'topology' ? (
        <StepTopology draft={draft} hosts={hosts} />
      ) : step === 'options' ? (
        <StepOptions draft={draft} problems={spec.problems} />
      ) : step === 'review' ? (
        <StepReview
          text={spec.text}
          fromYaml={spec.fromYaml}
          fieldProblems={spec.problems}
          plan={plan}
          planning={planning}
          applyError={applyError}
          source={SPEC_SOURCE}
          onReplan={replan}
          onEditYaml={() => setDraft((d) => ({ ...d, yaml: spec.text }))}
          onYamlChange={(yaml) => setDraft((d) => ({ ...d, yaml }))}
          onBackToForm={() => setDraft((d) => ({ ...d, yaml: null }))}
        />
      ) : deployed ? (
        <StepDeploy
          deployed={deployed}
          onBack={() => {
            setDeployed(null);
            goto('review');
          }}
          onNew={startOver}
        />
      ) : null}
      {step === 'review' && plan?.text === spec.text && plan.outcome?.plan?.mode === 'disaggregated' ? (
        <FabricCheckCard plan={plan.outcome.plan} hosts={hosts} simulated={plan.outcome.simulated} />
      ) : null}
      {step !== 'deploy' ? (
        <footer className="wizard-foot">
          <button type="button" className="btn" onClick={() => goto(WIZARD_STEPS[Math.max(0, index - 1)]!.id)} disabled={index === 0} data-testid="wizard-back">
            Back
          </button>
          <span className="spacer" />
          {step === 'review' ? (
            <>
              <span className="muted small">{canDeploy ? 'Nothing starts until you press Deploy.' : planning ? 'Checking…' : 'Fix the problems above to deploy.'}</span>
              <button type="button" className="btn btn-primary" onClick={deploy} disabled={!canDeploy} data-testid="wizard-deploy">
                {applying ? 'Starting…' : 'Deploy'}
              </button>
            </>
          ) : (
            <button type="button" className="btn btn-primary" onClick={() => goto(WIZARD_STEPS[index + 1]!.id)} disabled={stepBlocked} data-testid="wizard-next">
              Next: {WIZARD_STEPS[index + 1]!.label}
            </button>
          )}
        </footer>
      ) : null}
    </div>
  );
}
