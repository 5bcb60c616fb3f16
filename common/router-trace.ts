import { z } from 'zod';

/**
 * One line of a router trace file (`traces.jsonl`): what the router saw of one client request.
 * Times are milliseconds since the Unix epoch with sub-millisecond fractions (the router's clock),
 * `null` when the step did not happen (no prefill leg, aborted before the first token, …).
 */

/** Where the prompt was prefilled: on a prefill worker (KV handed over) or on the worker that decoded. */
export const PrefillPlacement = z.enum(['remote', 'local']);
export type PrefillPlacement = z.infer<typeof PrefillPlacement>;

export const PrefillReason = z.enum([
  /** Disaggregated: the prompt went to a prefill worker. */
  'disaggregated',
  /** Aggregated deployment: one worker does everything. */
  'aggregated',
  /** Prompt shorter than --remote-prefill-min-tokens. */
  'short-prompt',
  /** Every prefill worker had more outstanding requests than --prefill-queue-limit. */
  'prefill-saturated',
  /** No prefill worker could be reached (connection refused / reset before sending); decode prefilled. */
  'prefill-unreachable',
  /** The prefill worker answered without kv_transfer_params (not a kv_producer?); decode prefilled. */
  'prefill-returned-no-kv-params',
]);
export type PrefillReason = z.infer<typeof PrefillReason>;

export const RouterLeg = z.enum(['prefill', 'decode', 'tokenize', 'router']);
export type RouterLeg = z.infer<typeof RouterLeg>;

export const RouterTraceError = z.object({
  leg: RouterLeg,
  /** Base URL of the worker that failed, when one was involved. */
  worker: z.string().nullable(),
  message: z.string(),
});
export type RouterTraceError = z.infer<typeof RouterTraceError>;

export const RouterTrace = z.object({
  v: z.literal(1),
  /** Sent as X-Request-Id on every leg (the client's, or generated). */
  requestId: z.string(),
  endpoint: z.enum(['/v1/chat/completions', '/v1/completions']),
  mode: z.enum(['aggregated', 'disaggregated']),
  stream: z.boolean(),
  arrivalAtMs: z.number(),
  prefillSentAtMs: z.number().nullable(),
  prefillDoneAtMs: z.number().nullable(),
  decodeSentAtMs: z.number().nullable(),
  /** First relayed chunk that carried generated text (non-streaming: when the body completed). */
  firstTokenAtMs: z.number().nullable(),
  /** Last relayed chunk that carried generated text (non-streaming: when the body completed). */
  lastTokenAtMs: z.number().nullable(),
  /** When the router finished with the request (response ended, failed or aborted). */
  finishedAtMs: z.number(),
  prefillWorker: z.string().nullable(),
  /** The worker that produced the client's response (in aggregated mode, the only worker). */
  decodeWorker: z.string().nullable(),
  prefill: PrefillPlacement,
  prefillReason: PrefillReason,
  promptTokens: z.number().int().nonnegative().nullable(),
  /**
   * usage = a worker's usage block; tokenize = decode worker's /tokenize; token-ids = the prompt was
   * token ids; estimate = UTF-8 bytes / 4 (only used for the remote-prefill rule).
   */
  promptTokensSource: z.enum(['usage', 'tokenize', 'token-ids', 'estimate']).nullable(),
  outputTokens: z.number().int().nonnegative().nullable(),
  /** usage = the response's usage block; chunks = count of streamed chunks that carried text. */
  outputTokensSource: z.enum(['usage', 'chunks']).nullable(),
  /** Number of remote_block_ids (all KV-cache groups together) the prefill worker handed over. */
  kvBlocks: z.number().int().nonnegative().nullable(),
  remoteEngineId: z.string().nullable(),
  status: z.enum(['ok', 'error', 'aborted']),
  /** HTTP status sent to the client (200 when a stream failed midway; 499 when the client left before any answer). */
  httpStatus: z.number().int(),
  error: RouterTraceError.nullable(),
  /** The client went away before the response ended; upstream legs were aborted. */
  aborted: z.boolean(),
});
export type RouterTrace = z.infer<typeof RouterTrace>;

/** Parses one JSONL line of a trace file; throws a ZodError/SyntaxError on bad input. */
export function parseRouterTraceLine(line: string): RouterTrace {
  return RouterTrace.parse(JSON.parse(line));
}
