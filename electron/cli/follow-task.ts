import type { Task } from '../../common/task';
import type { CliController } from './cli-controller';
import { TaskPrinter } from './task-printer';

/**
 * Follows a long action to its end, printing progress on stderr (unless --json), and turns the
 * first Ctrl-C or SIGTERM into a `tasks.cancel` so the controller stops what it started instead of
 * the CLI dying halfway. Returns the final task whatever its state; callers decide what failure means.
 */
export async function followWithCancel(c: CliController, task: Task, opts: { json: boolean; cancelMessage: string }): Promise<Task> {
  const printer = new TaskPrinter(process.stderr, !opts.json);
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`${opts.cancelMessage}\n`);
    void c.call('tasks.cancel', { id: task.id });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await c.followTask(task, (t) => printer.update(t));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
