import { ApiCall, ApiMethods, type ApiReply } from '../../../common/api-contract';
import { describeZodError, toErrorPayload, type ErrorPayload } from '../../../common/errors';
import type { ApiHandler } from '../api-handler';

/** Id used in a reply to a message that carried no usable id (callers number their calls from 1). */
export const UNATTRIBUTED_ID = 0;

function badMessage(id: number, message: string): ApiReply {
  const error: ErrorPayload = { code: 'bad-message', message };
  return { id, ok: false, error };
}

function idOf(raw: unknown): number {
  if (typeof raw === 'object' && raw !== null && 'id' in raw) {
    const id = (raw as { id: unknown }).id;
    if (typeof id === 'number' && Number.isInteger(id)) return id;
  }
  return UNATTRIBUTED_ID;
}

/**
 * Turns one call envelope from any transport (IPC, WebSocket) into exactly one reply envelope.
 * It never throws: a malformed envelope, an unknown method or a handler failure all become
 * error replies, so a bad message can never take the transport down.
 */
export async function dispatchCall(handler: ApiHandler, raw: unknown): Promise<ApiReply> {
  const parsed = ApiCall.safeParse(raw);
  if (!parsed.success) {
    return badMessage(
      idOf(raw),
      `${describeZodError('API call', parsed.error)}. The request was ignored. This is a bug in the client; reload the window, and report it if it happens again.`,
    );
  }
  const call = parsed.data;
  if (!Object.hasOwn(ApiMethods, call.method)) {
    return {
      id: call.id,
      ok: false,
      error: {
        code: 'unknown-method',
        message: `Unknown API method "${call.method}". The app and the server may be different versions; reload the window, or restart Handoff.`,
      },
    };
  }
  try {
    const result = await handler.handle(call.method, call.params);
    return { id: call.id, ok: true, result };
  } catch (err) {
    return { id: call.id, ok: false, error: toErrorPayload(err) };
  }
}

/** Parses one text frame as JSON; a parse failure becomes the reply to send back. */
export function parseJsonFrame(text: string): { ok: true; value: unknown } | { ok: false; reply: ApiReply } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return {
      ok: false,
      reply: badMessage(
        UNATTRIBUTED_ID,
        `The message is not valid JSON (${err instanceof Error ? err.message : String(err)}). The request was ignored; send one JSON object per message.`,
      ),
    };
  }
}
