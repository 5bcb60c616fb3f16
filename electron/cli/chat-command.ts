import { randomUUID } from 'node:crypto';
import { InvalidArgumentError, type Command } from 'commander';
import { ChatDelta, ChatDone, ChatParams, pdStatsFromTrace, type ChatMessage, type ChatStartResult, type PdStats } from '../../common/chat';
import { UserFacingError } from '../../common/errors';
import { withController } from './cli-controller';

interface ChatOptions {
  json?: boolean;
  system?: string;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  seed?: number;
  stop?: string[];
}

const number = (what: string) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${what} must be a number.`);
  return n;
};
const collect = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];

/**
 * `handoff chat DEPLOYMENT "prompt"`: one streamed answer through the deployment's endpoint (an SSH
 * forward for remote hosts), then the same statistics as the playground: client TTFT / ITL /
 * tokens/s and token counts, and from the router's trace where prefill ran and the KV handoff.
 * The answer goes to stdout as it streams, the statistics to stderr; --json prints one object.
 */
export function registerChatCommand(program: Command): void {
  program
    .command('chat')
    .argument('<deployment>', 'deployment id, unique id prefix, or name')
    .argument('<prompt>', 'the user message')
    .option('--json', 'print one JSON object (answer, stats, P/D stats, router trace) at the end instead of streaming')
    .option('--system <text>', 'system prompt')
    .option('--max-tokens <n>', 'max_tokens', number('--max-tokens'))
    .option('--temperature <t>', 'temperature (0–2)', number('--temperature'))
    .option('--top-p <p>', 'top_p (0–1]', number('--top-p'))
    .option('--seed <n>', 'seed', number('--seed'))
    .option('--stop <text>', 'stop string (repeatable, up to 4)', collect)
    .description('Send one prompt to a deployment and print the streamed answer with TTFT, ITL, tokens/s and what prefill/decode did')
    .action(async (deployment: string, prompt: string, opts: ChatOptions) => {
      const parsed = ChatParams.safeParse({ temperature: opts.temperature, topP: opts.topP, maxTokens: opts.maxTokens, seed: opts.seed, stop: opts.stop });
      if (!parsed.success) {
        const i = parsed.error.issues[0];
        throw new UserFacingError('usage', `--${String(i?.path[0] ?? '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${i?.message ?? 'invalid'}.`);
      }
      const messages: ChatMessage[] = [...(opts.system ? [{ role: 'system' as const, content: opts.system }] : []), { role: 'user', content: prompt }];
      await withController(async (c) => {
        const streamId = `cli-${randomUUID().slice(0, 8)}`;
        let endedWithNewline = true;
        const done = new Promise<ChatDone>((resolve) => {
          const off = c.controller.subscribe((env) => {
            if (env.event === 'chat.delta') {
              const d = ChatDelta.parse(env.data);
              if (d.streamId !== streamId || opts.json) return;
              process.stdout.write(d.text);
              endedWithNewline = d.text.endsWith('\n');
            } else if (env.event === 'chat.done') {
              const d = ChatDone.parse(env.data);
              if (d.streamId !== streamId) return;
              off();
              resolve(d);
            }
          });
        });
        const started = await c.call('chat.start', { streamId, deployment, messages, params: parsed.data });
        if (!opts.json) process.stderr.write(`${describeTarget(started)}\n`);
        const onSigint = () => {
          c.controller.chat.stop(streamId);
        };
        process.once('SIGINT', onSigint);
        const result = await done.finally(() => process.off('SIGINT', onSigint));
        const pd = result.trace ? pdStatsFromTrace(result.trace) : null;
        if (opts.json) {
          process.stdout.write(
            JSON.stringify(
              {
                deployment: { id: started.deploymentId, name: started.deploymentName, simulated: started.simulated, mode: started.mode, model: started.model },
                requestId: result.requestId,
                outcome: result.outcome,
                text: result.text,
                stats: result.stats,
                pd,
                trace: result.trace,
                traceNote: result.traceNote,
                error: result.error,
              },
              null,
              2,
            ) + '\n',
          );
        } else {
          if (!endedWithNewline) process.stdout.write('\n');
          process.stderr.write(formatChatStats(result, pd));
        }
        if (result.error) {
          if (!opts.json) process.stderr.write(`handoff: ${result.error.message}\n`);
          process.exitCode = 1;
        }
      });
    });
}

function describeTarget(s: ChatStartResult): string {
  return `— ${s.deploymentName} (${s.mode}, ${s.model})${s.simulated ? ' — SIMULATED engine (mocker): timings come from its latency model' : ''}`;
}

const ms = (v: number | null) => (v === null ? '—' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`);
const n = (v: number | null) => (v === null ? '—' : String(v));

/** The statistics block of the non-JSON output, one fact per line. */
export function formatChatStats(d: ChatDone, pd: PdStats | null): string {
  const s = d.stats;
  const lines = [
    `— ${d.outcome === 'ok' ? 'done' : d.outcome}${s.finishReason ? ` (finish: ${s.finishReason})` : ''}, request ${d.requestId}`,
    `TTFT ${ms(s.ttftMs)} · ITL ${ms(s.itlMs)} · ${s.tokensPerS === null ? '—' : s.tokensPerS.toFixed(1)} tokens/s · input ${n(s.inputTokens)} · output ${n(s.outputTokens)}${s.outputTokensSource === 'chunks' ? ' (counted chunks)' : ''} tokens`,
  ];
  if (pd) {
    lines.push(`prefill: ${pd.placement} — ${pd.reasonText}`);
    lines.push(`workers: prefill ${pd.prefillWorker ?? '—'} · decode ${pd.decodeWorker ?? '—'}`);
    if (pd.placement === 'remote') lines.push(`prefill time ${ms(pd.prefillMs)} · KV transfer ≤ ${ms(pd.kvTransferUpperBoundMs)} (upper bound: P done → D first token) · KV blocks handed over ${n(pd.kvBlocks)}`);
    if (pd.abortNote) lines.push(`router: ${pd.abortNote}`);
  } else if (d.traceNote) lines.push(`router trace: ${d.traceNote}`);
  return lines.join('\n') + '\n';
}
