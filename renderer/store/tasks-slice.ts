import type { StateCreator } from 'zustand';
import type { HandoffApi } from '../../common/api-contract';
import { isTaskFinished, type Task, type TaskAnswer } from '../../common/task';
import { attempt, type ActionResult } from './action-result';
import type { AppState } from './app-store';

export interface TasksSlice {
  tasks: Record<string, Task>;
  upsertTask(task: Task): void;
  loadTasks(): Promise<void>;
  cancelTask(id: string): Promise<ActionResult<Task>>;
  answerTask(id: string, answer: TaskAnswer): Promise<ActionResult<Task>>;
}

/**
 * A call's reply and the task.updated events travel separately, so a reply may carry an older
 * snapshot than an event already applied. A finished task is final: never let a stale
 * unfinished snapshot bring it back to life.
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
    loadTasks: async () => {
      const r = await attempt(() => api.call('tasks.list'));
      if (r.ok) for (const t of r.value) get().upsertTask(t);
    },
    cancelTask: async (id) => {
      const r = await attempt(() => api.call('tasks.cancel', { id }));
      if (r.ok) get().upsertTask(r.value);
      return r;
    },
    answerTask: async (id, answer) => {
      const r = await attempt(() => api.call('tasks.answer', { id, answer }));
      if (r.ok) get().upsertTask(r.value);
      return r;
    },
  });
