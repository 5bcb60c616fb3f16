import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { sampleTask } from '../test-fixtures';
import { taskFraction, TaskProgressView } from './task-progress';

describe('TaskProgressView', () => {
  it('shows every step with its state, detail and a cancel button while running', () => {
    const html = renderToStaticMarkup(<TaskProgressView task={sampleTask()} onCancel={() => {}} />);
    for (const id of ['tcp', 'hostkey', 'auth', 'install', 'discover']) expect(html).toContain(`data-testid="task-step-${id}"`);
    expect(html).toContain('data-testid="task-step-auth" data-state="running"');
    expect(html).toContain('publickey');
    expect(html).toContain('data-testid="task-cancel"');
    expect(html).toContain('aria-valuenow="50"');
  });

  it('shows the error message with what to do next and no cancel once failed', () => {
    const task = sampleTask({
      state: 'failed',
      error: { code: 'auth-failed', message: 'The server refused key ~/.ssh/id_ed25519. Add its public key to ~/.ssh/authorized_keys on gpu1.' },
    });
    const html = renderToStaticMarkup(<TaskProgressView task={task} onCancel={() => {}} failureHint="Then press Re-check." />);
    expect(html).toContain('Add its public key to ~/.ssh/authorized_keys on gpu1.');
    expect(html).toContain('Then press Re-check.');
    expect(html).toContain('data-error-code="auth-failed"');
    expect(html).not.toContain('data-testid="task-cancel"');
  });

  it('says it is waiting when the task asks a question', () => {
    const html = renderToStaticMarkup(
      <TaskProgressView task={sampleTask({ state: 'needs-input', prompt: { kind: 'passphrase', keyFile: '/k' } })} onCancel={() => {}} />,
    );
    expect(html).toContain('data-testid="task-waiting"');
  });

  it('counts finished steps fully and a running step by its progress', () => {
    expect(taskFraction(sampleTask())).toBeCloseTo(2.5 / 5);
    expect(taskFraction(sampleTask({ state: 'succeeded' }))).toBe(1);
    expect(taskFraction(sampleTask({ steps: [] }))).toBe(0);
  });
});
