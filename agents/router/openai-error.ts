import type { ServerResponse } from 'node:http';
import { z } from 'zod';

/**
 * OpenAI-style error bodies: `{"error": {"message", "type", "param", "code"}}`. `code` carries the
 * HTTP status like vLLM does, so clients that read either convention get something useful.
 */
export type OpenAiErrorType =
  | 'invalid_request_error'
  | 'not_found_error'
  | 'upstream_error'
  | 'upstream_timeout'
  | 'service_unavailable'
  | 'internal_error';

export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: number };
}

export function openAiError(status: number, type: OpenAiErrorType | string, message: string, param: string | null = null): OpenAiErrorBody {
  return { error: { message, type, param, code: status } };
}

export function sendOpenAiError(res: ServerResponse, status: number, body: OpenAiErrorBody, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Both shapes vLLM has used: `{"error": {...}}` and the older flat `{"object":"error","message":...}`. */
const NestedError = z.object({ error: z.object({ message: z.string() }) });
const FlatError = z.object({ message: z.string() });

/** The message an upstream error body carries, or a short excerpt of the raw body. */
export function upstreamErrorMessage(body: Buffer): string {
  const text = body.toString('utf8');
  try {
    const json: unknown = JSON.parse(text);
    const nested = NestedError.safeParse(json);
    if (nested.success) return nested.data.error.message;
    const flat = FlatError.safeParse(json);
    if (flat.success) return flat.data.message;
  } catch {
    // not JSON: fall through to the raw excerpt
  }
  const trimmed = text.trim();
  return trimmed.length > 300 ? trimmed.slice(0, 300) + '…' : trimmed || '(empty body)';
}
