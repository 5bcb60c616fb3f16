import type { z } from 'zod';
import { AgentMethods, type AgentMethodName } from '../../common/agent-rpc';
import type { AgentLogger } from './agent-logger';

/**
 * The agent's RPC method table. Each domain (agent.*, host.*, deploy.*, logs.*, bench.*) registers
 * its handlers here; the connection layer validates params with the registered schema before a
 * handler runs and validates its result before it is sent, so handlers only see typed input.
 */

/** What a handler knows about the call and the client that made it. */
export interface RpcContext {
  /** Connection id, unique for the daemon's lifetime. */
  clientId: number;
  /** From agent.hello; null only for methods allowed before the handshake. */
  clientVersion: string | null;
  /** Sends a notification to this client only; a no-op once it has gone. */
  notify(method: string, params?: unknown): void;
  /** Sends a notification to every client that completed the handshake. */
  broadcast(method: string, params?: unknown): void;
  /** Aborted when this client disconnects: long handlers (log tails, progress streams) stop on it. */
  signal: AbortSignal;
  log: AgentLogger;
}

export type RpcHandler<P, R> = (params: P, ctx: RpcContext) => Promise<R> | R;

export interface MethodSpec<P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  params: P;
  result: R;
}

export interface RegisterOptions {
  /** Callable before agent.hello (only the handshake itself and shutdown need this). */
  beforeHello?: boolean;
}

export interface RegisteredMethod {
  method: string;
  spec: MethodSpec;
  handler: RpcHandler<unknown, unknown>;
  beforeHello: boolean;
}

export type NotificationHandler<P> = (params: P, ctx: RpcContext) => void;
interface RegisteredNotification {
  schema: z.ZodType;
  handler: NotificationHandler<unknown>;
}

export class MethodRegistry {
  private readonly methods = new Map<string, RegisteredMethod>();
  private readonly notifications = new Map<string, RegisteredNotification>();

  /** Registers any method with its schemas; a second registration of the same name is a programming error. */
  register<S extends MethodSpec>(method: string, spec: S, handler: RpcHandler<z.output<S['params']>, z.input<S['result']>>, options: RegisterOptions = {}): this {
    if (this.methods.has(method)) throw new Error(`RPC method ${method} is registered twice`);
    this.methods.set(method, { method, spec, handler: handler as RpcHandler<unknown, unknown>, beforeHello: options.beforeHello ?? false });
    return this;
  }

  /** Registers a method declared in common/agent-rpc.ts, taking its schemas from there. */
  handle<M extends AgentMethodName>(
    method: M,
    handler: RpcHandler<z.output<(typeof AgentMethods)[M]['params']>, z.input<(typeof AgentMethods)[M]['result']>>,
    options?: RegisterOptions,
  ): this {
    return this.register(method, AgentMethods[method] as MethodSpec, handler as RpcHandler<unknown, unknown>, options);
  }

  /** Client → agent notifications (e.g. a cancel); unknown ones are ignored as JSON-RPC requires no reply. */
  onNotification<S extends z.ZodType>(method: string, schema: S, handler: NotificationHandler<z.output<S>>): this {
    if (this.notifications.has(method)) throw new Error(`RPC notification ${method} is registered twice`);
    this.notifications.set(method, { schema, handler: handler as NotificationHandler<unknown> });
    return this;
  }

  get(method: string): RegisteredMethod | undefined {
    return this.methods.get(method);
  }

  getNotification(method: string): RegisteredNotification | undefined {
    return this.notifications.get(method);
  }

  names(): string[] {
    return [...this.methods.keys()].sort();
  }
}
