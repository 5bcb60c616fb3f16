import { useEffect, useState } from 'react';
import { pdStatsFromTrace, type ChatReply } from '../../../common/chat';
import { useApp } from '../../store/app-store';
import { CopyButton } from './copy-button';
import { Markdown } from './markdown';
import { ReplyWaterfall } from './reply-waterfall';

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ms`);
const num = (v: number | null | undefined) => (v === null || v === undefined ? '—' : String(v));

/** The text of a streaming answer, repainted once per frame from the stream buffer. */
function StreamingText({ streamId }: { streamId: string }) {
  const streams = useApp((s) => s.chatStreams);
  const [text, setText] = useState(() => streams.get(streamId));
  useEffect(() => {
    setText(streams.get(streamId));
    return streams.subscribe(streamId, () => setText(streams.get(streamId)));
  }, [streams, streamId]);
  return text ? <Markdown text={text} testId="reply-text" /> : <div className="reply-waiting" data-testid="reply-waiting">Waiting for the first token…</div>;
}

/** What to do about each kind of error, beside its message. */
const ERROR_TITLES: Record<string, string> = {
  'deployment-down': 'Deployment down',
  'deployment-stopped': 'Deployment stopped',
  'context-too-long': 'Context too long',
  'router-error': 'Router error',
  'stream-dropped': 'Connection lost',
  'no-deployment': 'No deployment',
};

export function ReplyCard({ reply, canRegenerate, onRegenerate }: { reply: ChatReply; canRegenerate: boolean; onRegenerate: () => void }) {
  const stop = useApp((s) => s.stopStream);
  const streaming = reply.state === 'streaming';
  return (
    <div className={`reply reply-${reply.state}`} data-testid={`reply-lane-${reply.lane}`} data-state={reply.state} data-stream-id={reply.streamId}>
      <div className="reply-head">
        <span className="reply-dep" data-testid="reply-deployment">
          {reply.deploymentName}
        </span>
        {reply.simulated ? (
          <span className="badge badge-simulated" data-testid="reply-simulated">
            simulated
          </span>
        ) : null}
        {reply.mode ? <span className="muted small">{reply.mode}</span> : null}
        <span className="spacer" />
        {streaming ? (
          <button type="button" className="btn btn-small btn-danger-outline" data-testid="reply-stop" onClick={() => void stop(reply.streamId)}>
            Stop
          </button>
        ) : (
          <>
            {reply.content ? <CopyButton text={reply.content} testId="reply-copy" /> : null}
            {canRegenerate ? (
              <button type="button" className="btn btn-small btn-quiet" data-testid="reply-regenerate" onClick={onRegenerate}>
                Regenerate
              </button>
            ) : null}
          </>
        )}
      </div>
      {streaming ? <StreamingText streamId={reply.streamId} /> : reply.content ? <Markdown text={reply.content} testId="reply-text" /> : null}
      {reply.state === 'stopped' ? (
        <div className="reply-note" data-testid="reply-stopped">
          Stopped{reply.content ? '' : ' before the first token'}.
        </div>
      ) : null}
      {reply.error ? (
        <div className="callout callout-bad reply-error" role="alert" data-testid="reply-error" data-error-code={reply.error.code}>
          <div className="callout-title">{ERROR_TITLES[reply.error.code] ?? 'The request failed'}</div>
          <div className="callout-body" data-testid="reply-error-message">
            {reply.error.message}
          </div>
        </div>
      ) : null}
      {!streaming && reply.state !== 'error' ? <ReplyStats reply={reply} /> : null}
      {reply.state === 'error' && reply.trace ? <ReplyStats reply={reply} /> : null}
    </div>
  );
}

function Stat({ label, value, testId, title }: { label: string; value: string; testId: string; title?: string }) {
  return (
    <span className="stat" title={title}>
      <span className="stat-label">{label}</span>
      <span className="stat-value" data-testid={testId}>
        {value}
      </span>
    </span>
  );
}

/** Client timings of the answer and, from the router's trace, what prefill and decode did. */
export function ReplyStats({ reply }: { reply: ChatReply }) {
  const s = reply.stats;
  const pd = reply.trace ? pdStatsFromTrace(reply.trace) : null;
  return (
    <div className="reply-stats" data-testid="reply-stats">
      {s ? (
        <div className="stat-row">
          <Stat label="TTFT" value={ms(s.ttftMs)} testId="stat-ttft" title="Time to first token, as this computer saw it (request sent → first text chunk)" />
          <Stat label="ITL" value={ms(s.itlMs)} testId="stat-itl" title="Inter-token latency: (last − first token) ÷ (output tokens − 1)" />
          <Stat label="tokens/s" value={s.tokensPerS === null ? '—' : s.tokensPerS.toFixed(1)} testId="stat-tps" title="1 ÷ ITL: the decode speed one user sees" />
          <Stat
            label="input"
            value={num(s.inputTokens ?? reply.trace?.promptTokens)}
            testId="stat-input-tokens"
            title={s.inputTokens === null && reply.trace?.promptTokens != null ? 'From the router trace (the answer stopped before the server sent usage)' : undefined}
          />
          <Stat label="output" value={`${num(s.outputTokens)}${s.outputTokensSource === 'chunks' ? '*' : ''}`} testId="stat-output-tokens" title={s.outputTokensSource === 'chunks' ? 'Counted from chunks: the answer stopped before the server sent usage' : undefined} />
        </div>
      ) : null}
      {pd ? (
        <div className="stat-row stat-row-pd" data-testid="pd-stats">
          <Stat label="prefill" value={pd.placement} testId="pd-placement" title={pd.reasonText} />
          <span className="pd-reason muted small" data-testid="pd-reason">
            {pd.reasonText}
          </span>
          <Stat label="prefill worker" value={pd.prefillWorker ?? '—'} testId="pd-prefill-worker" />
          <Stat label="decode worker" value={pd.decodeWorker ?? '—'} testId="pd-decode-worker" />
          {pd.placement === 'remote' ? (
            <>
              <Stat label="prefill time" value={ms(pd.prefillMs)} testId="pd-prefill-ms" title="Prefill leg: sent → response read by the router" />
              <Stat
                label="KV transfer ≤"
                value={ms(pd.kvTransferUpperBoundMs)}
                testId="pd-kv-transfer"
                title="Upper bound: from the prefill worker's answer to the decode worker's first token (includes the first decode step and router hops)"
              />
              <Stat label="KV blocks" value={num(pd.kvBlocks)} testId="pd-kv-blocks" title="remote_block_ids handed from prefill to decode" />
            </>
          ) : null}
          {pd.abortNote ? (
            <span className="pd-abort" data-testid="pd-abort">
              router: {pd.abortNote}
            </span>
          ) : null}
        </div>
      ) : reply.traceNote ? (
        <div className="muted small" data-testid="pd-missing">
          {reply.traceNote}
        </div>
      ) : null}
      {pd?.placement === 'remote' ? <div className="stat-footnote muted">KV transfer is an upper bound: P done → D first token, as the router saw it.</div> : null}
      {reply.trace ? <ReplyWaterfall reply={reply} /> : null}
    </div>
  );
}
