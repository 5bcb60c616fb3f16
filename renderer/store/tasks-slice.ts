import type { StateCreator } from 'zustand';
import type { HandoffApi } from '../../common/api-contract';
import { isTaskFinished, type Task, type TaskAnswer } from '../../common/task';
import { attempt, type ActionResult } from './action-result';
import type { AppState } from './app-store';

export interface TasksSlice {
  tasks: Record<string, Task>;
  /** From task.updated events and tasks.list: the current state. */
  upsertTask(task: Task): void;
  /** From a call's reply: only adds a task not seen yet (see below). */
  seedTask(task: Task): void;
  loadTasks(): Promise<void>;
  cancelTask(id: string): Promise<ActionResult<Task>>;
  answerTask(id: string, answer: TaskAnswer): Promise<ActionResult<Task>>;
}

/**
 * Every change of a task is published as task.updated, on the same ordered channel as replies.
 * A reply's snapshot may be older than events that arrived before it (hosts.add returns the task
 * as it was when it started, after it may already have asked for a passphrase), so replies only
 * seed unknown tasks and events decide the rest. A finished task is final either way.
 */
export function mergeTask(current: Task | undefined, incoming: Task): Task {
  if (current && isTaskFinished(current) && !isTaskFinished(incoming)) return current;
  return incoming;
}

export const createTasksSlice =
  (api: HandoffApi): StateCreator<AppState, [], [], TasksSlice> =>
  (set, get) => ({
    tasks: {},
    upsertTask: (task) =>
      set((s) => {
        const merged = mergeTask(s.tasks[task.id], task);
        return merged === s.tasks[task.id] ? s : { tasks: { ...s.tasks, [task.id]: merged } };
      }),
    seedTask: (task) =>
      set((s) => (s.tasks[task.id] ? s : { tasks: { ...s.tasks, [task.id]: task } })),
    loadTasks: async () => {
      const r = await attempt(() => api.call('tasks.list'));
      if (r.ok) for (const t of r.value) get().upsertTask(t);
    },
    cancelTask: async (id) => {
      const r = await attempt(() => api.call('tasks.cancel', { id }));
      if (r.ok) get().seedTask(r.value);
      return r;
    },
    answerTask: async (id, answer) => {
      const r = await attempt(() => api.call('tasks.answer', { id, answer }));
      if (r.ok) get().seedTask(r.value);
      return r;
    },
  });
