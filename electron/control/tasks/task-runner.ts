import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import { toErrorPayload, UserFacingError } from '../../../common/errors';
import { isTaskFinished, type Task, type TaskAnswer, type TaskPrompt, type TaskStep } from '../../../common/task';

/** What a running task's body can do: move steps, ask the user, and notice cancellation. */
export interface TaskContext {
  readonly signal: AbortSignal;
  step(id: string, state: TaskStep['state'], detail?: string, progress?: number): void;
  /** Pauses the task in state needs-input until the UI or CLI answers (or the task is cancelled). */
  ask<K extends TaskPrompt['kind']>(prompt: Extract<TaskPrompt, { kind: K }>): Promise<Extract<TaskAnswer, { kind: K }>>;
  throwIfCancelled(): void;
}

interface Pending {
  kind: TaskPrompt['kind'];
  resolve(a: TaskAnswer): void;
  reject(e: unknown): void;
}

const FINISHED_KEEP = 200;

/** Runs long actions as Task objects with progress, prompts, cancel and a final result or error. */
export class TaskRunner extends EventEmitter<{ updated: [Task] }> {
  private readonly tasks = new Map<string, Task>();
  private readonly controllers = new Map<string, AbortController>();
  private readonly pending = new Map<string, Pending>();
  private readonly done = new Map<string, Promise<Task>>();

  start<R>(kind: string, title: string, steps: Array<{ id: string; label: string }>, body: (ctx: TaskContext) => Promise<R>): Task {
    const id = crypto.randomUUID();
    const task: Task = {
      id,
      kind,
      title,
      state: 'running',
      steps: steps.map((s) => ({ ...s, state: 'pending' as const })),
      createdAt: Date.now(),
    };
    const ac = new AbortController();
    this.tasks.set(id, task);
    this.controllers.set(id, ac);
    const ctx: TaskContext = {
      signal: ac.signal,
      step: (stepId, state, detail, progress) => {
        this.patch(id, (t) => ({
          ...t,
          steps: t.steps.map((s) =>
            s.id !== stepId
              ? s
              : {
                  ...s,
                  state,
                  ...(detail !== undefined ? { detail } : {}),
                  ...(progress !== undefined ? { progress } : {}),
                  ...(state === 'running' && s.startedAt === undefined ? { startedAt: Date.now() } : {}),
                  ...(state === 'done' || state === 'failed' || state === 'skipped' ? { endedAt: Date.now() } : {}),
                },
          ),
        }));
      },
      ask: (prompt) =>
        new Promise((resolve, reject) => {
          if (ac.signal.aborted) return reject(cancelledError());
          this.pending.set(id, { kind: prompt.kind, resolve: resolve as (a: TaskAnswer) => void, reject });
          this.patch(id, (t) => ({ ...t, state: 'needs-input', prompt }));
        }),
      throwIfCancelled: () => {
        if (ac.signal.aborted) throw cancelledError();
      },
    };
    this.emit('updated', task);
    const finished = (async (): Promise<Task> => {
      try {
        const result = await body(ctx);
        if (ac.signal.aborted) throw cancelledError();
        this.patch(id, (t) => ({ ...t, state: 'succeeded', result, prompt: undefined }));
      } catch (err) {
        const cancelled = ac.signal.aborted;
        this.patch(id, (t) => ({
          ...t,
          state: cancelled ? 'cancelled' : 'failed',
          prompt: undefined,
          error: cancelled ? { code: 'cancelled', message: 'Cancelled.' } : toErrorPayload(err),
          steps: t.steps.map((s) => (s.state === 'running' ? { ...s, state: cancelled ? 'skipped' : 'failed', endedAt: Date.now() } : s)),
        }));
      } finally {
        this.controllers.delete(id);
        this.pending.delete(id);
        this.prune();
      }
      return this.tasks.get(id)!;
    })();
    this.done.set(id, finished);
    return task;
  }

  get(id: string): Task {
    const t = this.tasks.get(id);
    if (!t) throw new UserFacingError('unknown-task', `No task with id ${id}; it may have finished long ago.`);
    return t;
  }

  list(): Task[] {
    return [...this.tasks.values()];
  }

  /** Resolves when the task has finished, whatever the outcome. */
  wait(id: string): Promise<Task> {
    const p = this.done.get(id);
    if (!p) throw new UserFacingError('unknown-task', `No task with id ${id}.`);
    return p;
  }

  cancel(id: string): Task {
    const t = this.get(id);
    if (isTaskFinished(t)) return t;
    this.controllers.get(id)?.abort();
    this.pending.get(id)?.reject(cancelledError());
    return this.get(id);
  }

  answer(id: string, answer: TaskAnswer): Task {
    const t = this.get(id);
    const p = this.pending.get(id);
    if (!p || t.state !== 'needs-input') throw new UserFacingError('task-not-waiting', 'This task is not waiting for an answer (it may have been answered already or finished).');
    if (p.kind !== answer.kind) throw new UserFacingError('task-wrong-answer', `This task asked for "${p.kind}", not "${answer.kind}".`);
    this.pending.delete(id);
    this.patch(id, (cur) => ({ ...cur, state: 'running', prompt: undefined }));
    p.resolve(answer);
    return this.get(id);
  }

  private patch(id: string, fn: (t: Task) => Task): void {
    const cur = this.tasks.get(id);
    if (!cur) return;
    const next = fn(cur);
    if (next.prompt === undefined) delete next.prompt;
    this.tasks.set(id, next);
    this.emit('updated', next);
  }

  private prune(): void {
    const finished = [...this.tasks.values()].filter(isTaskFinished).sort((a, b) => a.createdAt - b.createdAt);
    for (const t of finished.slice(0, Math.max(0, finished.length - FINISHED_KEEP))) {
      this.tasks.delete(t.id);
      this.done.delete(t.id);
    }
  }
}

export function cancelledError(): UserFacingError {
  return new UserFacingError('cancelled', 'Cancelled.');
}
