import { z } from 'zod';

/**
 * The command line of `handoff-agent router`, as the planner writes it. This is the contract
 * between the planner and agents/router: the router parses exactly these flags.
 *
 *   --host ADDR                       listen address (default 127.0.0.1)
 *   --port N                          listen port
 *   --mode aggregated|disaggregated
 *   --model NAME                      served model name (what /v1/models lists)
 *   --worker URL                      aggregated: a worker base URL (repeatable)
 *   --prefill URL                     disaggregated: a prefill worker base URL (repeatable)
 *   --decode URL                      disaggregated: a decode worker base URL (repeatable)
 *   --remote-prefill-min-tokens N     disaggregated: prefill locally below N prompt tokens (0 = always remote)
 *   --prefill-queue-limit N           disaggregated: prefill locally when every prefill worker has > N outstanding
 *   --trace-file PATH                 per-request trace, JSONL
 *
 * Worker URLs are base URLs without a path (`http://10.0.0.2:8100`).
 */
export const RouterLaunchOptions = z.object({
  host: z.string().min(1),
  port: z.int().min(1).max(65535),
  mode: z.enum(['aggregated', 'disaggregated']),
  model: z.string().min(1),
  workers: z.array(z.string()).default([]),
  prefill: z.array(z.string()).default([]),
  decode: z.array(z.string()).default([]),
  remotePrefillMinTokens: z.int().min(0).optional(),
  prefillQueueLimit: z.int().min(0).optional(),
  traceFile: z.string().min(1).optional(),
});
export type RouterLaunchOptions = z.infer<typeof RouterLaunchOptions>;

export function routerArgs(o: RouterLaunchOptions): string[] {
  const args = ['--host', o.host, '--port', String(o.port), '--mode', o.mode, '--model', o.model];
  for (const u of o.workers) args.push('--worker', u);
  for (const u of o.prefill) args.push('--prefill', u);
  for (const u of o.decode) args.push('--decode', u);
  if (o.remotePrefillMinTokens !== undefined) args.push('--remote-prefill-min-tokens', String(o.remotePrefillMinTokens));
  if (o.prefillQueueLimit !== undefined) args.push('--prefill-queue-limit', String(o.prefillQueueLimit));
  if (o.traceFile !== undefined) args.push('--trace-file', o.traceFile);
  return args;
}
