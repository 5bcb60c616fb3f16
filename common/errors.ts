import { z } from 'zod';

/** An error meant for a person: what happened and what to do next. `code` is stable for tests and UI logic. */
export class UserFacingError extends Error {
  readonly code: string;
  readonly details?: unknown;
  constructor(code: string, message: string, details?: unknown) {
    super(message);
    this.name = 'UserFacingError';
    this.code = code;
    this.details = details;
  }
  toPayload(): ErrorPayload {
    return { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) };
  }
}

export const ErrorPayload = z.object({
  code: z.string(),
  message: z.string(),
  details: z.unknown().optional(),
});
export type ErrorPayload = z.infer<typeof ErrorPayload>;

/** Any thrown value as a payload; unexpected errors keep their message but get code 'internal'. */
export function toErrorPayload(err: unknown): ErrorPayload {
  if (err instanceof UserFacingError) return err.toPayload();
  if (err instanceof Error) return { code: 'internal', message: err.message };
  return { code: 'internal', message: String(err) };
}

export function fromErrorPayload(p: ErrorPayload): UserFacingError {
  return new UserFacingError(p.code, p.message, p.details);
}

/** Formats a zod failure as one readable line per problem, prefixed by where the data came from. */
export function describeZodError(source: string, err: z.ZodError): string {
  const lines = err.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  return `${source}: ${lines.join('; ')}`;
}

/** Parses with a schema, turning failure into a UserFacingError with a clear message. */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, source: string, code = 'invalid-input'): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new UserFacingError(code, describeZodError(source, r.error));
  return r.data;
}
