import { z } from 'zod';
import { ErrorPayload } from './errors';

/**
 * JSON-RPC 2.0 framing, one JSON object per line (NDJSON). Used between controller and agent
 * (over the SSH exec channel / attach bridge) and inside the agent. Every line is validated on
 * receipt; a malformed line becomes an error reply, never a crash.
 */
export const RpcId = z.union([z.string(), z.number()]);
export type RpcId = z.infer<typeof RpcId>;

export const RpcRequest = z.object({
  jsonrpc: z.literal('2.0'),
  id: RpcId,
  method: z.string().min(1),
  params: z.unknown().optional(),
});
export type RpcRequest = z.infer<typeof RpcRequest>;

export const RpcNotification = z.object({
  jsonrpc: z.literal('2.0'),
  method: z.string().min(1),
  params: z.unknown().optional(),
});
export type RpcNotification = z.infer<typeof RpcNotification>;

export const RpcErrorObject = z.object({
  code: z.number().int(),
  message: z.string(),
  data: ErrorPayload.optional(),
});
export type RpcErrorObject = z.infer<typeof RpcErrorObject>;

export const RpcResponse = z.union([
  z.object({ jsonrpc: z.literal('2.0'), id: RpcId, result: z.unknown() }).strict(),
  z.object({ jsonrpc: z.literal('2.0'), id: RpcId.nullable(), error: RpcErrorObject }).strict(),
]);
export type RpcResponse = z.infer<typeof RpcResponse>;

export const RpcErrorCode = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  /** Application error: `data` carries a UserFacingError payload. */
  applicationError: -32000,
} as const;

export type RpcMessage =
  | { kind: 'request'; msg: RpcRequest }
  | { kind: 'notification'; msg: RpcNotification }
  | { kind: 'response'; msg: RpcResponse }
  | { kind: 'invalid'; error: RpcErrorObject; id: RpcId | null };

/** Classifies one NDJSON line. Never throws. */
export function parseRpcLine(line: string): RpcMessage {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { kind: 'invalid', id: null, error: { code: RpcErrorCode.parseError, message: 'Parse error: the line is not valid JSON' } };
  }
  const req = RpcRequest.safeParse(value);
  if (req.success) return { kind: 'request', msg: req.data };
  const note = RpcNotification.safeParse(value);
  if (note.success && !(typeof value === 'object' && value !== null && 'id' in value)) return { kind: 'notification', msg: note.data };
  const res = RpcResponse.safeParse(value);
  if (res.success) return { kind: 'response', msg: res.data };
  const id = typeof value === 'object' && value !== null && 'id' in value ? RpcId.safeParse((value as { id: unknown }).id) : null;
  return {
    kind: 'invalid',
    id: id && id.success ? id.data : null,
    error: { code: RpcErrorCode.invalidRequest, message: 'Invalid Request: not a JSON-RPC 2.0 request, notification or response' },
  };
}

export function encodeRpc(msg: RpcRequest | RpcNotification | RpcResponse): string {
  return JSON.stringify(msg) + '\n';
}

/**
 * Splits a text stream into lines; keeps a partial tail between chunks. Caps line length so a peer
 * cannot exhaust memory: an oversize line is reported once through `onOverflow` and the rest of it,
 * up to its newline, is dropped so its tail is not mistaken for a new message.
 */
export class LineSplitter {
  private buf = '';
  private discarding = false;
  constructor(private readonly onLine: (line: string) => void, private readonly maxLineBytes = 16 * 1024 * 1024, private readonly onOverflow?: () => void) {}
  push(chunk: string): void {
    let start = 0;
    let nl: number;
    // Only the new chunk is searched for newlines: rescanning the buffered tail would make a long line quadratic.
    while ((nl = chunk.indexOf('\n', start)) >= 0) {
      const piece = chunk.slice(start, nl);
      start = nl + 1;
      if (this.discarding) {
        this.discarding = false;
        continue;
      }
      const line = (this.buf + piece).replace(/\r$/, '');
      this.buf = '';
      if (line.length > this.maxLineBytes) {
        this.onOverflow?.();
        continue;
      }
      if (line.trim().length > 0) this.onLine(line);
    }
    if (this.discarding) return;
    this.buf += chunk.slice(start);
    if (this.buf.length > this.maxLineBytes) {
      this.buf = '';
      this.discarding = true;
      this.onOverflow?.();
    }
  }
}
