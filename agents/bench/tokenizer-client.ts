import { z } from 'zod';
import { UserFacingError } from '../../common/errors';

/**
 * The deployment's own tokenizer over HTTP: vLLM's POST /tokenize and /detokenize (served by the
 * workers and the mocker, not by the router). Prompts of exact length and re-tokenized output
 * lengths both come from here, so the counts are the model's, not an approximation.
 */

const TokenizeResponse = z.object({ count: z.number().int().nonnegative(), tokens: z.array(z.number().int()) });
const DetokenizeResponse = z.object({ prompt: z.string() });

export class TokenizerClient {
  constructor(
    readonly baseUrl: string,
    readonly model: string,
    private readonly signal?: AbortSignal,
  ) {}

  private async post(path: string, body: unknown): Promise<unknown> {
    const url = `${this.baseUrl.replace(/\/+$/, '')}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: this.signal ? AbortSignal.any([this.signal, AbortSignal.timeout(60_000)]) : AbortSignal.timeout(60_000),
      });
    } catch (err) {
      if (this.signal?.aborted) throw err;
      throw new UserFacingError('tokenize-unreachable', `Could not reach ${url} (${err instanceof Error ? err.message : String(err)}). Check that the deployment is running and that tokenizeUrl points at a worker.`);
    }
    const text = await res.text();
    if (res.status === 404) {
      throw new UserFacingError('tokenize-missing', `${url} answered 404: this endpoint has no ${path}. The router does not serve it; pass tokenizeUrl = a worker's URL (vLLM or mocker).`);
    }
    if (res.status !== 200) throw new UserFacingError('tokenize-failed', `${url} answered HTTP ${res.status}: ${text.slice(0, 300)}`);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new UserFacingError('tokenize-failed', `${url} did not answer JSON: ${text.slice(0, 200)}`);
    }
  }

  /** Token ids of bare text (no special tokens, no chat template), as the tools count ISL and OSL. */
  async encode(text: string): Promise<number[]> {
    const r = TokenizeResponse.safeParse(await this.post('/tokenize', { model: this.model, prompt: text, add_special_tokens: false }));
    if (!r.success) throw new UserFacingError('tokenize-failed', `${this.baseUrl}/tokenize answered an unexpected shape (want {count, tokens}).`);
    return r.data.tokens;
  }

  async count(text: string): Promise<number> {
    return (await this.encode(text)).length;
  }

  async decode(tokens: readonly number[]): Promise<string> {
    const r = DetokenizeResponse.safeParse(await this.post('/detokenize', { model: this.model, tokens }));
    if (!r.success) throw new UserFacingError('tokenize-failed', `${this.baseUrl}/detokenize answered an unexpected shape (want {prompt}).`);
    return r.data.prompt;
  }
}

/** Runs fn over items with at most `limit` in flight, keeping order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
