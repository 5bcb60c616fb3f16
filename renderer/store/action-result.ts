import { toErrorPayload, type ErrorPayload } from '../../common/errors';

/** What a store action that calls the controller hands back: the value, or an error to show in place. */
export type ActionResult<T> = { ok: true; value: T } | { ok: false; error: ErrorPayload };

export async function attempt<T>(fn: () => Promise<T>): Promise<ActionResult<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    return { ok: false, error: toErrorPayload(err) };
  }
}
