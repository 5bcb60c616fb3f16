import type { HostStatus } from '../../../../common/host';
import { defaultName, hostHasGpus, type WizardDraft } from '../../../store/deployment-draft';
import { useApp } from '../../../store/app-store';
import { ChoiceCard, TextField } from './fields';

const NAME_RE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

export function nameProblem(name: string): string | undefined {
  if (name.trim() === '') return 'Give the deployment a name: it names its directory and processes.';
  if (name.length > 63 || !NAME_RE.test(name)) return 'Use lowercase letters, digits and dashes (at most 63), starting and ending with a letter or digit.';
  return undefined;
}

export function StepModel({ draft, hosts, onPasteSpec }: { draft: WizardDraft; hosts: readonly HostStatus[]; onPasteSpec: () => void }) {
  const setDraft = useApp((s) => s.setDraft);
  const anyGpu = hosts.some(hostHasGpus);
  const setEngine = (engine: WizardDraft['engine']) =>
    setDraft((d) => ({ ...d, engine, engineTouched: true, name: d.nameTouched ? d.name : defaultName(engine, d.mode) }));
  return (
    <div className="wizard-body" data-testid="wizard-step-model">
      <section className="card form">
        <h2 className="card-title">Engine</h2>
        <div className="choices">
          <ChoiceCard name="engine" value="vllm" checked={draft.engine === 'vllm'} onSelect={() => setEngine('vllm')} title="vLLM" testId="wizard-engine-vllm">
            The real engine: <code>vllm serve</code> on each worker's GPUs, KV cache handed over NIXL in disaggregated mode. Needs vLLM on the hosts.
          </ChoiceCard>
          <ChoiceCard
            name="engine"
            value="mocker"
            checked={draft.engine === 'mocker'}
            onSelect={() => setEngine('mocker')}
            title={
              <>
                Mocker <span className="badge badge-simulated">Simulated</span>
              </>
            }
            testId="wizard-engine-mocker"
          >
            A simulator for trying Handoff without GPUs: it speaks vLLM's API, flags and metrics, with modelled latencies. No model runs, no GPU is used, and it is labelled
            simulated everywhere.
          </ChoiceCard>
        </div>
        {!anyGpu && !draft.engineTouched ? (
          <p className="muted small" data-testid="wizard-engine-note">
            None of your hosts has a GPU{hosts.some((h) => !h.info) ? ' (or they have not been checked yet)' : ''}, so the simulator is preselected.
          </p>
        ) : null}
      </section>
      <section className="card form">
        <h2 className="card-title">Model</h2>
        <TextField
          label="Model (Hugging Face id or absolute path on the hosts)"
          value={draft.model}
          onChange={(model) => setDraft((d) => ({ ...d, model }))}
          testId="wizard-model"
          placeholder="deepseek-ai/DeepSeek-R1-Distill-Llama-8B"
          help={draft.engine === 'mocker' ? 'The simulator only uses the name (and its config when it is a local path).' : 'vLLM downloads a hub id on first start unless it is cached; a path must exist on every worker host.'}
          error={draft.model.trim() === '' ? 'Enter a model id or path.' : undefined}
        />
        <TextField
          label="Served name (optional)"
          value={draft.servedName}
          onChange={(servedName) => setDraft((d) => ({ ...d, servedName }))}
          testId="wizard-served-name"
          placeholder={draft.model || 'same as the model'}
          help='What clients send as "model" (vLLM --served-model-name). Empty: the model id.'
        />
        <TextField
          label="Deployment name"
          value={draft.name}
          onChange={(name) => setDraft((d) => ({ ...d, name, nameTouched: true }))}
          testId="wizard-name"
          help="Lowercase letters, digits and dashes: it names the deployment's directory and processes."
          error={nameProblem(draft.name)}
        />
      </section>
      <p className="muted small">
        Have a spec already?{' '}
        <button type="button" className="btn-link" onClick={onPasteSpec} data-testid="wizard-paste-spec">
          Paste or write it as YAML
        </button>{' '}
        and go straight to the review.
      </p>
    </div>
  );
}
