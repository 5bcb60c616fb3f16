import { z } from 'zod';

const WorkerUrl = z
  .string()
  .transform((s, ctx) => {
    let u: URL;
    try {
      u = new URL(s.includes('://') ? s : `http://${s}`);
    } catch {
      ctx.addIssue({ code: 'custom', message: `"${s}" is not a worker URL (expected http://HOST:PORT)` });
      return z.NEVER;
    }
    if (u.protocol !== 'http:') {
      ctx.addIssue({ code: 'custom', message: `"${s}": only http:// workers are supported` });
      return z.NEVER;
    }
    // Base URL without trailing slash: paths are appended verbatim.
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
  });

export const RouterOptions = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    /** 0 picks a free port (tests). */
    port: z.number().int().min(0).max(65535),
    mode: z.enum(['aggregated', 'disaggregated']),
    workers: z.array(WorkerUrl).default([]),
    prefill: z.array(WorkerUrl).default([]),
    decode: z.array(WorkerUrl).default([]),
    /** Prompts with fewer tokens are prefilled on the decode worker; 0 = always remote. */
    remotePrefillMinTokens: z.number().int().min(0).default(0),
    /** Prefill locally when every prefill worker has more than this many outstanding; null = no limit. */
    prefillQueueLimit: z.number().int().min(0).nullable().default(null),
    traceFile: z.string().min(1).nullable().default(null),
    /** Served model name; requests naming another model get 404 like vLLM. */
    model: z.string().min(1).nullable().default(null),
    logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    /** Upstream connect timeout. */
    connectTimeoutMs: z.number().int().positive().default(10_000),
  })
  .superRefine((o, ctx) => {
    if (o.mode === 'aggregated') {
      if (o.workers.length === 0) ctx.addIssue({ code: 'custom', path: ['workers'], message: 'aggregated mode needs at least one --worker URL' });
      if (o.prefill.length || o.decode.length)
        ctx.addIssue({ code: 'custom', path: ['prefill'], message: 'aggregated mode takes --worker, not --prefill/--decode' });
    } else {
      if (o.prefill.length === 0) ctx.addIssue({ code: 'custom', path: ['prefill'], message: 'disaggregated mode needs at least one --prefill URL' });
      if (o.decode.length === 0) ctx.addIssue({ code: 'custom', path: ['decode'], message: 'disaggregated mode needs at least one --decode URL' });
      if (o.workers.length) ctx.addIssue({ code: 'custom', path: ['workers'], message: 'disaggregated mode takes --prefill/--decode, not --worker' });
    }
  });
export type RouterOptionsInput = z.input<typeof RouterOptions>;
export type RouterOptions = z.output<typeof RouterOptions>;
