import { useCallback, useState, type FormEvent } from 'react';
import type { ErrorPayload } from '../../common/errors';
import type { Task, TaskAnswer, TaskPrompt } from '../../common/task';
import { useApp } from '../store/app-store';
import { ErrorCallout } from './error-callout';
import { Modal } from './modal';

type Answer = (answer: TaskAnswer) => void;

/** Where OpenSSH keeps the host key of this type, so the user knows what to compare against. */
export function hostKeyFileFor(keyType: string): string {
  const base = keyType.startsWith('ecdsa') ? 'ecdsa' : keyType.includes('ed25519') ? 'ed25519' : keyType.includes('rsa') ? 'rsa' : '*';
  return `/etc/ssh/ssh_host_${base}_key.pub`;
}

export function TrustHostKeyDialog(props: { prompt: Extract<TaskPrompt, { kind: 'trust-host-key' }>; onAnswer: Answer; error: ErrorPayload | null; busy: boolean }) {
  const { prompt, onAnswer, error, busy } = props;
  const reject = useCallback(() => onAnswer({ kind: 'trust-host-key', trust: false }), [onAnswer]);
  const where = prompt.port === 22 ? prompt.host : `${prompt.host}:${prompt.port}`;
  return (
    <Modal title="Trust this host key?" onEscape={reject} testId="trust-host-key-dialog">
      <p>
        Handoff has not seen <strong data-testid="trust-host-key-host">{where}</strong> before. Compare this fingerprint with the host's own key before
        trusting it (on the host: <code>ssh-keygen -lf {hostKeyFileFor(prompt.keyType)}</code>).
      </p>
      <dl className="facts facts-tight">
        <dt>Host</dt>
        <dd className="mono">{where}</dd>
        <dt>Key type</dt>
        <dd className="mono" data-testid="trust-host-key-type">
          {prompt.keyType}
        </dd>
        <dt>Fingerprint</dt>
        <dd className="mono fingerprint" data-testid="trust-host-key-fingerprint">
          {prompt.fingerprint}
        </dd>
      </dl>
      <p className="muted">Trusting saves the key in Handoff's own known_hosts. If it ever changes, Handoff refuses to connect.</p>
      {error ? <ErrorCallout error={error} title="Could not send your answer" testId="prompt-answer-error" /> : null}
      <div className="modal-actions">
        <button type="button" className="btn" onClick={reject} disabled={busy} data-testid="trust-host-key-cancel">
          Cancel
        </button>
        <button type="button" className="btn btn-primary" onClick={() => onAnswer({ kind: 'trust-host-key', trust: true })} disabled={busy} data-testid="trust-host-key-accept" data-autofocus>
          Trust
        </button>
      </div>
    </Modal>
  );
}

export function PassphraseDialog(props: { prompt: Extract<TaskPrompt, { kind: 'passphrase' }>; onAnswer: Answer; error: ErrorPayload | null; busy: boolean }) {
  const { prompt, onAnswer, error, busy } = props;
  // Held only in this component's state and dropped once sent: never stored anywhere.
  const [passphrase, setPassphrase] = useState('');
  const cancel = useCallback(() => onAnswer({ kind: 'passphrase', passphrase: null }), [onAnswer]);
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    const value = passphrase;
    setPassphrase('');
    onAnswer({ kind: 'passphrase', passphrase: value });
  };
  return (
    <Modal title="Key passphrase" onEscape={cancel} testId="passphrase-dialog">
      <form onSubmit={submit}>
        <p>
          The key <code data-testid="passphrase-key-file">{prompt.keyFile}</code> is protected by a passphrase. It is used for this connection only and never saved.
        </p>
        <label className="field">
          <span className="field-label">Passphrase</span>
          <input
            type="password"
            autoComplete="off"
            value={passphrase}
            onChange={(e) => setPassphrase(e.target.value)}
            data-testid="passphrase-input"
            data-autofocus
          />
        </label>
        {error ? <ErrorCallout error={error} title="Could not send your answer" testId="prompt-answer-error" /> : null}
        <div className="modal-actions">
          <button type="button" className="btn" onClick={cancel} disabled={busy} data-testid="passphrase-cancel">
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy || passphrase.length === 0} data-testid="passphrase-submit">
            Unlock
          </button>
        </div>
      </form>
    </Modal>
  );
}

function firstWaitingTask(tasks: Record<string, Task>): Task | undefined {
  let best: Task | undefined;
  for (const t of Object.values(tasks)) {
    if (t.state === 'needs-input' && t.prompt && (!best || t.createdAt < best.createdAt)) best = t;
  }
  return best;
}

/** Shows the question of whichever task waits for the user, wherever it was started. */
export function TaskPromptDialog() {
  const task = useApp((s) => firstWaitingTask(s.tasks));
  return task ? <PromptForTask key={task.id} task={task} /> : null;
}

function PromptForTask({ task }: { task: Task }) {
  const answerTask = useApp((s) => s.answerTask);
  const [error, setError] = useState<ErrorPayload | null>(null);
  const [busy, setBusy] = useState(false);
  const taskId = task.id;
  const onAnswer = useCallback(
    (answer: TaskAnswer) => {
      setBusy(true);
      setError(null);
      void answerTask(taskId, answer).then((r) => {
        setBusy(false);
        if (!r.ok) setError(r.error);
      });
    },
    [taskId, answerTask],
  );
  if (!task.prompt) return null;
  return task.prompt.kind === 'trust-host-key' ? (
    <TrustHostKeyDialog prompt={task.prompt} onAnswer={onAnswer} error={error} busy={busy} />
  ) : (
    <PassphraseDialog prompt={task.prompt} onAnswer={onAnswer} error={error} busy={busy} />
  );
}
