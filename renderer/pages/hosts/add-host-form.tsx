import { useState, type FormEvent } from 'react';
import { AddHostParams } from '../../../common/api-contract';
import type { ErrorPayload } from '../../../common/errors';
import { parseSshTarget } from '../../../common/host';
import { isTaskFinished } from '../../../common/task';
import { ErrorCallout } from '../../components/error-callout';
import { TaskProgress } from '../../components/task-progress';
import { useApp } from '../../store/app-store';

export interface AddHostFields {
  name: string;
  target: string;
  identityFile: string;
  jump: string;
}

export type FieldErrors = Partial<Record<keyof AddHostFields, string>>;

const NAME_HINT = 'Use letters, digits, dot, dash or underscore, starting with a letter or digit (e.g. gpu1).';
const TARGET_HINT = 'Write USER@HOST or USER@HOST:PORT, e.g. ubuntu@10.0.0.5 or ubuntu@gpu1.lab:2222.';

/** Turns the form into AddHostParams, or says for each field what to change. */
export function validateAddHost(fields: AddHostFields, existingNames: readonly string[]): { params: AddHostParams } | { errors: FieldErrors } {
  const errors: FieldErrors = {};
  const name = fields.name.trim();
  if (!name) errors.name = `Give the host a short name. ${NAME_HINT}`;
  else if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) errors.name = NAME_HINT;
  else if (existingNames.includes(name)) errors.name = `A host named "${name}" already exists. Pick another name, or open it from the list.`;
  const target = fields.target.trim() ? parseSshTarget(fields.target) : null;
  if (!fields.target.trim()) errors.target = `Enter the SSH address. ${TARGET_HINT}`;
  else if (!target) errors.target = `"${fields.target.trim()}" is not an SSH address. ${TARGET_HINT}`;
  const jump = fields.jump.trim() ? parseSshTarget(fields.jump) : undefined;
  if (jump === null) errors.jump = `"${fields.jump.trim()}" is not an SSH address. ${TARGET_HINT} Leave it empty for a direct connection.`;
  if (Object.keys(errors).length > 0 || !target) return { errors };
  const identityFile = fields.identityFile.trim();
  const parsed = AddHostParams.safeParse({
    kind: 'ssh',
    name,
    target,
    ...(identityFile ? { identityFile } : {}),
    ...(jump ? { jump } : {}),
  });
  if (!parsed.success) {
    const out: FieldErrors = {};
    for (const issue of parsed.error.issues) {
      const key = issue.path[0] === 'name' ? 'name' : issue.path[0] === 'jump' ? 'jump' : issue.path[0] === 'identityFile' ? 'identityFile' : 'target';
      out[key] = issue.message;
    }
    return { errors: out };
  }
  return { params: parsed.data };
}

function Field(props: {
  id: keyof AddHostFields;
  label: string;
  value: string;
  onChange: (v: string) => void;
  placeholder: string;
  help: string;
  error: string | undefined;
  disabled: boolean;
}) {
  const { id, label, value, onChange, placeholder, help, error, disabled } = props;
  return (
    <label className={`field${error ? ' field-invalid' : ''}`}>
      <span className="field-label">{label}</span>
      <input
        type="text"
        value={value}
        placeholder={placeholder}
        spellCheck={false}
        autoComplete="off"
        disabled={disabled}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error ? true : undefined}
        data-testid={`add-host-${id}`}
      />
      {error ? (
        <span className="field-error" data-testid={`add-host-${id}-error`}>
          {error}
        </span>
      ) : (
        <span className="field-help">{help}</span>
      )}
    </label>
  );
}

export function AddHostForm() {
  const hosts = useApp((s) => s.hosts);
  const tasks = useApp((s) => s.tasks);
  const addHost = useApp((s) => s.addHost);
  const removeHost = useApp((s) => s.removeHost);
  const navigate = useApp((s) => s.navigate);
  const [fields, setFields] = useState<AddHostFields>({ name: '', target: '', identityFile: '', jump: '' });
  const [errors, setErrors] = useState<FieldErrors>({});
  const [submitError, setSubmitError] = useState<ErrorPayload | null>(null);
  /** The host this form saved and the task testing it; a failed attempt is replaced by the next. */
  const [attempt, setAttempt] = useState<{ name: string; taskId: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const task = attempt ? tasks[attempt.taskId] : undefined;
  const running = task !== undefined && !isTaskFinished(task);
  const set = (k: keyof AddHostFields) => (v: string) => setFields((f) => ({ ...f, [k]: v }));

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setSubmitError(null);
    // The previous failed attempt's host is ours to replace, so its name does not count as taken.
    const others = hosts.map((h) => h.config.name).filter((n) => n !== attempt?.name);
    const v = validateAddHost(fields, others);
    if ('errors' in v) {
      setErrors(v.errors);
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      if (attempt && task?.state !== 'succeeded') {
        const removed = await removeHost(attempt.name);
        if (!removed.ok && removed.error.code !== 'host-not-found') {
          setSubmitError(removed.error);
          return;
        }
        setAttempt(null);
      }
      const r = await addHost(v.params);
      if (r.ok) setAttempt({ name: v.params.name, taskId: r.value.id });
      else setSubmitError(r.error);
    } finally {
      setBusy(false);
    }
  };

  const locked = busy || running || task?.state === 'succeeded';
  return (
    <div className="page" data-testid="add-host-page">
      <nav className="crumbs">
        <a href="#/hosts" data-testid="crumb-hosts">
          Hosts
        </a>
        <span aria-hidden="true"> / </span>
        <span>Add host</span>
      </nav>
      <header className="page-head">
        <h1>Add a host</h1>
      </header>
      <div className="add-host-layout">
        <form className="card form" onSubmit={(e) => void submit(e)} noValidate data-testid="add-host-form">
          <Field id="name" label="Name" value={fields.name} onChange={set('name')} placeholder="gpu1" help="How Handoff and the CLI refer to this host." error={errors.name} disabled={locked} />
          <Field
            id="target"
            label="SSH address"
            value={fields.target}
            onChange={set('target')}
            placeholder="USER@HOST[:PORT]"
            help="As you would type it after ssh. ~/.ssh/config entries are honoured."
            error={errors.target}
            disabled={locked}
          />
          <Field
            id="identityFile"
            label="Identity file (optional)"
            value={fields.identityFile}
            onChange={set('identityFile')}
            placeholder="~/.ssh/id_ed25519"
            help="Path to the private key on this computer. Empty: ssh-agent and ~/.ssh/config are used. Passphrases are asked for, never stored."
            error={errors.identityFile}
            disabled={locked}
          />
          <Field
            id="jump"
            label="Jump host (optional)"
            value={fields.jump}
            onChange={set('jump')}
            placeholder="USER@BASTION[:PORT]"
            help="A bastion to connect through, like ssh -J."
            error={errors.jump}
            disabled={locked}
          />
          {submitError ? <ErrorCallout error={submitError} title="Could not add the host" testId="add-host-error" /> : null}
          <div className="form-actions">
            {task?.state === 'succeeded' ? (
              <button type="button" className="btn btn-primary" onClick={() => navigate({ page: 'hosts', view: 'host', host: attempt?.name ?? '' })} data-testid="add-host-open">
                Open {attempt?.name}
              </button>
            ) : (
              <button type="submit" className="btn btn-primary" disabled={locked} data-testid="add-host-test">
                {task && (task.state === 'failed' || task.state === 'cancelled') ? 'Test again' : 'Test connection'}
              </button>
            )}
            <span className="muted small">Saves the host, then connects, installs the agent and discovers GPUs and software.</span>
          </div>
        </form>
        <div className="add-host-progress">
          {attempt ? (
            <>
              <TaskProgress taskId={attempt.taskId} />
              {task?.state === 'succeeded' ? (
                <div className="callout callout-ok" data-testid="add-host-success">
                  {attempt.name} is connected. Open it to see its GPUs, topology and software.
                </div>
              ) : null}
              {task && (task.state === 'failed' || task.state === 'cancelled') ? (
                <p className="muted small" data-testid="add-host-retry-hint">
                  The host is saved as it is. Fix the fields and press Test again to replace it, or leave it and fix it later from its page.
                </p>
              ) : null}
            </>
          ) : (
            <div className="card muted steps-preview">
              <p>Test connection runs these steps, each shown here as it happens:</p>
              <ol>
                <li>TCP: reach the SSH port</li>
                <li>Host key: check it, or ask you to trust a new one</li>
                <li>Authentication: key file or ssh-agent</li>
                <li>Agent install: upload Handoff's agent (and a Node runtime if needed)</li>
                <li>Discovery: GPUs, topology, CUDA, Python packages, tools</li>
              </ol>
            </div>
          )}
        </div>
      </div>
    </div>
  );
}
