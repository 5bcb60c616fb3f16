import { resolveHandoffHome } from '../control/storage/app-home';
import { createController, type Controller } from '../control/controller';
import type { ApiMethodName, ApiParams, ApiResult } from '../../common/api-contract';
import { ApiMethods } from '../../common/api-contract';
import { isTaskFinished, Task } from '../../common/task';
import { ensureAgentArtifacts } from './agent-artifacts';

export interface CliController {
  controller: Controller;
  call<M extends ApiMethodName>(method: M, params?: ApiParams<M>): Promise<ApiResult<M>>;
  /** Calls onUpdate on every change of the task until it finishes; returns the final task. */
  followTask(task: Task, onUpdate: (t: Task) => void): Promise<Task>;
}

/** Runs a command body against an in-process controller and always closes it (connections, agents). */
export async function withController<T>(fn: (c: CliController) => Promise<T>): Promise<T> {
  const home = resolveHandoffHome();
  const artifacts = await ensureAgentArtifacts();
  const controller = await createController({ home, mode: 'cli', artifacts });
  const c: CliController = {
    controller,
    call: async (method, params) => ApiMethods[method].result.parse(await controller.handle(method, params)) as ApiResult<typeof method>,
    followTask: (task, onUpdate) =>
      new Promise<Task>((resolve) => {
        const check = (t: Task) => {
          if (t.id !== task.id) return;
          onUpdate(t);
          if (isTaskFinished(t)) {
            off();
            resolve(t);
          }
        };
        const off = controller.subscribe((env) => {
          if (env.event === 'task.updated') check(Task.parse(env.data));
        });
        check(controller.tasks.get(task.id));
      }),
  };
  try {
    return await fn(c);
  } finally {
    await controller.close();
  }
}
