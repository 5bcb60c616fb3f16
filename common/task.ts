import { z } from 'zod';
import { ErrorPayload } from './errors';

/**
 * A long action (host check, deploy, benchmark…): progress steps, an optional question for the
 * user (trust a host key, enter a passphrase), a cancel, and a final result or error. Shown the
 * same way everywhere: one <TaskProgress> in the UI, one progress printer in the CLI.
 */
export const TaskStepState = z.enum(['pending', 'running', 'done', 'failed', 'skipped']);
export type TaskStepState = z.infer<typeof TaskStepState>;

export const TaskStep = z.object({
  id: z.string(),
  label: z.string(),
  state: TaskStepState,
  detail: z.string().optional(),
  /** 0..1 when known. */
  progress: z.number().min(0).max(1).optional(),
  startedAt: z.number().optional(),
  endedAt: z.number().optional(),
});
export type TaskStep = z.infer<typeof TaskStep>;

export const TaskPrompt = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('trust-host-key'),
    host: z.string(),
    port: z.number().int(),
    keyType: z.string(),
    fingerprint: z.string(),
  }),
  z.object({ kind: z.literal('passphrase'), keyFile: z.string() }),
]);
export type TaskPrompt = z.infer<typeof TaskPrompt>;

export const TaskAnswer = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('trust-host-key'), trust: z.boolean() }),
  z.object({ kind: z.literal('passphrase'), passphrase: z.string().nullable() }),
]);
export type TaskAnswer = z.infer<typeof TaskAnswer>;

export const TaskState = z.enum(['running', 'needs-input', 'succeeded', 'failed', 'cancelled']);
export type TaskState = z.infer<typeof TaskState>;

export const Task = z.object({
  id: z.string(),
  kind: z.string(),
  title: z.string(),
  state: TaskState,
  steps: z.array(TaskStep),
  prompt: TaskPrompt.optional(),
  error: ErrorPayload.optional(),
  result: z.unknown().optional(),
  createdAt: z.number(),
});
export type Task = z.infer<typeof Task>;

export function isTaskFinished(t: Pick<Task, 'state'>): boolean {
  return t.state === 'succeeded' || t.state === 'failed' || t.state === 'cancelled';
}
