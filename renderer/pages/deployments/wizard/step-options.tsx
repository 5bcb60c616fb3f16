import { useApp } from '../../../store/app-store';
import type { FieldProblem, WizardDraft } from '../../../store/deployment-draft';
import { TextAreaField, TextField } from './fields';

export function StepOptions({ draft, problems }: { draft: WizardDraft; problems: readonly FieldProblem[] }) {
  const setDraft = useApp((s) => s.setDraft);
  const err = (field: FieldProblem['field']) => problems.find((p) => p.field === field)?.message;
  const text = (field: 'blockSize' | 'maxModelLen' | 'gpuMemoryUtilization' | 'routerPort' | 'remotePrefillMinTokens' | 'prefillQueueLimit' | 'sideChannelBasePort' | 'workerCpus' | 'routerCpus') => ({
    value: draft[field],
    onChange: (v: string) => setDraft((d) => ({ ...d, [field]: v })),
    error: err(field),
  });
  const disagg = draft.mode === 'disaggregated';
  return (
    <div className="wizard-body" data-testid="wizard-step-options">
      <section className="card form">
        <h2 className="card-title">
          Engine options <span className="muted small">{draft.engine === 'mocker' ? 'the simulator takes the same flags as vllm serve' : 'vllm serve flags'}</span>
        </h2>
        <label className="check-field">
          <input type="checkbox" checked={draft.enforceEager} onChange={(e) => setDraft((d) => ({ ...d, enforceEager: e.target.checked }))} data-testid="wizard-enforce-eager" />
          <span>
            <strong>--enforce-eager</strong> <span className="muted">skip CUDA graph capture: faster start, slower decode</span>
          </span>
        </label>
        <div className="field-row">
          <TextField label="Block size (tokens)" {...text('blockSize')} testId="wizard-block-size" placeholder="vLLM's default" inputMode="numeric" help="Prefill and decode must match." />
          <TextField label="Max model length" {...text('maxModelLen')} testId="wizard-max-model-len" placeholder="model's default" inputMode="numeric" help="Context length in tokens." />
          <TextField
            label="GPU memory utilization"
            {...text('gpuMemoryUtilization')}
            testId="wizard-gpu-memory-utilization"
            placeholder="0.9"
            inputMode="decimal"
            help="Fraction of each GPU vLLM may take."
          />
        </div>
        <TextAreaField
          label="Extra arguments"
          value={draft.extraArgs}
          onChange={(extraArgs) => setDraft((d) => ({ ...d, extraArgs }))}
          testId="wizard-extra-args"
          placeholder={'--dtype\nbfloat16'}
          help="Appended to every worker's command, one argv word per line (no shell quoting)."
        />
        <TextAreaField
          label="Environment"
          value={draft.env}
          onChange={(env) => setDraft((d) => ({ ...d, env }))}
          testId="wizard-env"
          placeholder="HF_HUB_OFFLINE=1"
          help="KEY=VALUE per line, added to every process."
          error={err('env')}
        />
        <TextField
          label="Worker CPUs"
          {...text('workerCpus')}
          testId="wizard-worker-cpus"
          placeholder="anywhere"
          help="Pin every worker to these host CPUs (taskset list, e.g. 1-15). On a host without a GPU vLLM computes there; keep the benchmark client on the others."
        />
      </section>
      <section className="card form">
        <h2 className="card-title">Router</h2>
        <div className="field-row">
          <TextField label="Port" {...text('routerPort')} testId="wizard-router-port" placeholder="8181" inputMode="numeric" help="The endpoint's port on the router's host." />
          <TextField label="Router CPUs" {...text('routerCpus')} testId="wizard-router-cpus" placeholder="anywhere" help="Pin the router to these CPUs of its host (e.g. 0)." />
          {disagg ? (
            <>
              <TextField
                label="Remote-prefill threshold (tokens)"
                {...text('remotePrefillMinTokens')}
                testId="wizard-remote-prefill-min-tokens"
                placeholder="0 = always remote"
                inputMode="numeric"
                help="Shorter prompts are prefilled locally on decode, with no KV transfer."
              />
              <TextField
                label="Prefill queue limit"
                {...text('prefillQueueLimit')}
                testId="wizard-prefill-queue-limit"
                placeholder="none"
                inputMode="numeric"
                help="When every prefill worker has more requests outstanding, prefill locally."
              />
            </>
          ) : null}
        </div>
      </section>
      {disagg ? (
        <section className="card form">
          <h2 className="card-title">KV transfer (NIXL)</h2>
          <div className="field-row">
            <label className="field field-narrow">
              <span className="field-label">Connector</span>
              <select value={draft.connector} onChange={(e) => setDraft((d) => ({ ...d, connector: e.target.value === 'NixlPushConnector' ? 'NixlPushConnector' : 'NixlConnector' }))} data-testid="wizard-connector">
                <option value="NixlConnector">NixlConnector (pull: decode reads)</option>
                <option value="NixlPushConnector">NixlPushConnector (push: prefill writes)</option>
              </select>
            </label>
            <TextField
              label="Side-channel base port"
              {...text('sideChannelBasePort')}
              testId="wizard-side-channel-port"
              placeholder="5600"
              inputMode="numeric"
              help="First VLLM_NIXL_SIDE_CHANNEL_PORT on each host."
            />
          </div>
        </section>
      ) : null}
    </div>
  );
}
