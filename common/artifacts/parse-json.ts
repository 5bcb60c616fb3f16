import { z } from 'zod';
import { UserFacingError } from '../errors';

function lineCol(text: string, pos: number): string {
  let line = 1;
  let last = -1;
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return `line ${line}, column ${pos - last}`;
}

/**
 * JSON.parse with a message a person can act on: a cut-off file (the tool was still writing, or
 * the copy was interrupted) is told apart from text that is not JSON at all, with where it broke.
 */
export function parseJsonText(text: string, fileName: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const trimmed = text.trimEnd();
    const posMatch = /position (\d+)/.exec(msg);
    const pos = posMatch ? Number(posMatch[1]) : null;
    const atEnd = /end of (JSON|data) input/i.test(msg) || (pos !== null && pos >= trimmed.length);
    if (trimmed.length === 0) {
      throw new UserFacingError('artifact-empty', `${fileName} is empty; expected ${what}. Copy it again from the run directory.`);
    }
    if (atEnd && /^[[{]/.test(trimmed)) {
      throw new UserFacingError('artifact-truncated', `${fileName} ends in the middle of its JSON (after ${trimmed.length} characters), so it looks truncated: expected ${what}. Was the tool still running? Copy the complete file and import again.`);
    }
    const where = pos !== null ? ` at ${lineCol(text, pos)}` : '';
    throw new UserFacingError('artifact-invalid', `${fileName} is not valid JSON${where} (${msg}); expected ${what}.`);
  }
}

/** Validates parsed JSON against a schema, naming the file and the failing field. */
export function parseArtifact<T>(schema: z.ZodType<T>, value: unknown, fileName: string, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.slice(0, 3).map((i) => `${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`);
  throw new UserFacingError('artifact-schema', `${fileName} does not look like ${what}: ${issues.join('; ')}.`);
}

export const JsonObject = z.record(z.string(), z.unknown());
export type JsonObject = z.infer<typeof JsonObject>;

/** Reads a nested field by path, or undefined. */
export function at(o: unknown, ...path: (string | number)[]): unknown {
  let v: unknown = o;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}
export function numAt(o: unknown, ...path: (string | number)[]): number | undefined {
  const v = at(o, ...path);
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
export function strAt(o: unknown, ...path: (string | number)[]): string | undefined {
  const v = at(o, ...path);
  return typeof v === 'string' ? v : undefined;
}
export function boolAt(o: unknown, ...path: (string | number)[]): boolean | undefined {
  const v = at(o, ...path);
  return typeof v === 'boolean' ? v : undefined;
}
