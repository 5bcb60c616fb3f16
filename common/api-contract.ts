import { z } from 'zod';
import { HostStatus, SshTarget } from './host';
import { Task, TaskAnswer } from './task';
import { ErrorPayload } from './errors';

/**
 * The one typed API between the renderer and the controller. In Electron it is carried by the
 * preload over IPC; in browser mode (`handoff serve`) over a WebSocket. Both carriers move the
 * same envelopes (below) and the controller validates params with these schemas on arrival.
 */
export const AddHostParams = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('local'), name: z.string().min(1) }),
  z.object({
    kind: z.literal('ssh'),
    name: z.string().min(1).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'Use letters, digits, dot, dash or underscore'),
    target: SshTarget,
    identityFile: z.string().optional(),
    jump: SshTarget.optional(),
  }),
]);
export type AddHostParams = z.infer<typeof AddHostParams>;

export const ApiMethods = {
  'app.info': {
    params: z.object({}).optional(),
    result: z.object({ version: z.string(), mode: z.enum(['electron', 'browser', 'cli']), home: z.string() }),
  },
  'hosts.list': { params: z.object({}).optional(), result: z.array(HostStatus) },
  /** Saves the host and starts a check task (connect, trust, install, discover); returns the task. */
  'hosts.add': { params: AddHostParams, result: z.object({ host: HostStatus, task: Task }) },
  'hosts.check': { params: z.object({ name: z.string() }), result: Task },
  'hosts.remove': { params: z.object({ name: z.string() }), result: z.object({ ok: z.literal(true) }) },
  'tasks.list': { params: z.object({}).optional(), result: z.array(Task) },
  'tasks.get': { params: z.object({ id: z.string() }), result: Task },
  'tasks.cancel': { params: z.object({ id: z.string() }), result: Task },
  'tasks.answer': { params: z.object({ id: z.string(), answer: TaskAnswer }), result: Task },
} as const;
export type ApiMethodName = keyof typeof ApiMethods;
export type ApiParams<M extends ApiMethodName> = z.input<(typeof ApiMethods)[M]['params']>;
export type ApiResult<M extends ApiMethodName> = z.infer<(typeof ApiMethods)[M]['result']>;

export const ApiEvents = {
  'hosts.changed': z.array(HostStatus),
  'task.updated': Task,
} as const;
export type ApiEventName = keyof typeof ApiEvents;
export type ApiEvent<E extends ApiEventName> = z.infer<(typeof ApiEvents)[E]>;

/** Envelopes carried by both transports. */
export const ApiCall = z.object({ id: z.number().int(), method: z.string(), params: z.unknown().optional() });
export type ApiCall = z.infer<typeof ApiCall>;
export const ApiReply = z.union([
  z.object({ id: z.number().int(), ok: z.literal(true), result: z.unknown() }),
  z.object({ id: z.number().int(), ok: z.literal(false), error: ErrorPayload }),
]);
export type ApiReply = z.infer<typeof ApiReply>;
export const ApiEventEnvelope = z.object({ event: z.string(), data: z.unknown() });
export type ApiEventEnvelope = z.infer<typeof ApiEventEnvelope>;

/** What the renderer sees: `window.handoff` in Electron, a WebSocket client in the browser. */
export interface HandoffApi {
  call<M extends ApiMethodName>(method: M, params?: ApiParams<M>): Promise<ApiResult<M>>;
  on<E extends ApiEventName>(event: E, listener: (data: ApiEvent<E>) => void): () => void;
}

/** The shape the preload exposes (plain functions, no ipcRenderer). */
export interface HandoffBridge {
  call(method: string, params: unknown): Promise<unknown>;
  onEvent(listener: (envelope: ApiEventEnvelope) => void): () => void;
}
