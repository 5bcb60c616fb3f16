import {
  ApiEventEnvelope,
  ApiEvents,
  ApiMethods,
  ApiReply,
  type ApiEvent,
  type ApiEventName,
  type ApiMethodName,
  type ApiResult,
} from '../../common/api-contract';
import { describeZodError, fromErrorPayload, UserFacingError } from '../../common/errors';

/**
 * Checks what the controller sent against the contract before the UI sees it, for both carriers
 * (Electron IPC and WebSocket). A mismatch means app and controller disagree: say so plainly.
 */
export function unwrapReply<M extends ApiMethodName>(method: M, raw: unknown): ApiResult<M> {
  const reply = ApiReply.safeParse(raw);
  if (!reply.success) {
    throw new UserFacingError('bad-reply', `${describeZodError(`Reply to ${method}`, reply.error)}. Reload the window; if it persists, restart Handoff.`);
  }
  if (!reply.data.ok) throw fromErrorPayload(reply.data.error);
  const result = ApiMethods[method].result.safeParse(reply.data.result);
  if (!result.success) {
    throw new UserFacingError(
      'bad-reply',
      `${describeZodError(`Result of ${method}`, result.error)}. The app and the controller may be different versions; restart Handoff.`,
    );
  }
  return result.data as ApiResult<M>;
}

type AnyListener = (data: unknown) => void;

/** Typed event fan-out shared by both carriers; unknown or malformed events are reported, not delivered. */
export class EventHub {
  private readonly listeners = new Map<ApiEventName, Set<AnyListener>>();

  constructor(private readonly onInvalid: (message: string) => void = (m) => console.warn(m)) {}

  on<E extends ApiEventName>(event: E, listener: (data: ApiEvent<E>) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    const l = listener as AnyListener;
    set.add(l);
    return () => {
      set.delete(l);
    };
  }

  deliver(raw: unknown): void {
    const env = ApiEventEnvelope.safeParse(raw);
    if (!env.success) {
      this.onInvalid(describeZodError('Event envelope', env.error));
      return;
    }
    const name = env.data.event;
    if (!Object.hasOwn(ApiEvents, name)) {
      this.onInvalid(`Ignored unknown event "${name}"`);
      return;
    }
    const schema = ApiEvents[name as ApiEventName];
    const data = schema.safeParse(env.data.data);
    if (!data.success) {
      this.onInvalid(describeZodError(`Event ${name}`, data.error));
      return;
    }
    for (const l of this.listeners.get(name as ApiEventName) ?? []) l(data.data);
  }
}
