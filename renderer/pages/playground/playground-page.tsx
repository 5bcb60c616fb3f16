import { useEffect, useRef, useState } from 'react';
import type { ChatTurn } from '../../../common/chat';
import { ErrorCallout } from '../../components/error-callout';
import { formatAgo } from '../../format';
import { useApp } from '../../store/app-store';
import { isChattable } from '../../store/chat-slice';
import { ChatSettings, DeploymentPicker } from './chat-settings';
import { ReplyCard } from './reply-card';
import './playground.css';

const SIMULATED_NOTICE = 'playground-simulated';

/**
 * The chat playground: talk to any running deployment through the controller (which reaches the
 * router through the SSH forward), and see under every answer what prefill and decode did.
 */
export function PlaygroundPage() {
  const deployments = useApp((s) => s.deployments);
  const lanes = useApp((s) => s.conversation.lanes);
  const turnCount = useApp((s) => s.conversation.turns.length);
  const setLane = useApp((s) => s.setLaneDeployment);
  const setSideBySide = useApp((s) => s.setSideBySide);
  const showNotice = useApp((s) => s.showNotice);
  const dismissNotice = useApp((s) => s.dismissNotice);
  const chatError = useApp((s) => s.chatError);
  const navigate = useApp((s) => s.navigate);
  const running = deployments.filter(isChattable);

  // A new conversation starts on the first running deployment: one click less to a first chat.
  useEffect(() => {
    const first = running[0];
    if (turnCount === 0 && lanes[0]?.deployment == null && first) setLane(0, first.id);
  }, [turnCount, lanes, running, setLane]);

  const simulated = lanes
    .map((l) => deployments.find((d) => d.id === l.deployment))
    .filter((d) => d?.simulated)
    .map((d) => `"${d!.name}"`);
  const simulatedText = simulated.length
    ? `Simulated engine: ${simulated.join(' and ')} ${simulated.length > 1 ? 'run' : 'runs'} the mocker, not vLLM. Answers are placeholder text and timings come from its latency model, not from a GPU.`
    : null;
  useEffect(() => {
    if (simulatedText) showNotice({ id: SIMULATED_NOTICE, tone: 'warning', text: simulatedText });
    else dismissNotice(SIMULATED_NOTICE);
  }, [simulatedText, showNotice, dismissNotice]);
  useEffect(() => () => dismissNotice(SIMULATED_NOTICE), [dismissNotice]);

  return (
    <div className="page playground" data-testid="page-playground">
      <div className="playground-layout">
        <ConversationList />
        <section className="chat-main">
          <div className="page-head">
            <h1>Playground</h1>
            <span className="spacer" />
            <label className="side-by-side">
              <input type="checkbox" data-testid="chat-side-by-side" checked={lanes.length === 2} onChange={(e) => setSideBySide(e.target.checked)} />
              Side by side
            </label>
          </div>
          <div className="lane-pickers">
            {lanes.map((_, i) => (
              <DeploymentPicker key={i} lane={i} />
            ))}
          </div>
          {running.length === 0 ? (
            <div className="callout" data-testid="chat-no-deployment">
              No deployment is running. Start one on the{' '}
              <a href="#/deployments" onClick={(e) => (e.preventDefault(), navigate({ page: 'deployments', view: 'list' }))}>
                Deployments page
              </a>{' '}
              (the simulated engine needs no GPU), then come back here.
            </div>
          ) : null}
          {chatError ? <ErrorCallout error={chatError} testId="chat-error" /> : null}
          <ChatSettings />
          <Transcript />
          <Composer />
        </section>
      </div>
    </div>
  );
}

function ConversationList() {
  const conversations = useApp((s) => s.conversations);
  const currentId = useApp((s) => s.conversation.id);
  const open = useApp((s) => s.openConversation);
  const remove = useApp((s) => s.deleteConversation);
  const fresh = useApp((s) => s.newConversation);
  return (
    <aside className="conversation-list card card-flush" data-testid="conversation-list">
      <div className="conversation-list-head">
        <h2>Conversations</h2>
        <span className="spacer" />
        <button type="button" className="btn btn-small" data-testid="chat-new" onClick={fresh}>
          New
        </button>
      </div>
      {conversations.length === 0 ? <div className="muted small conversation-empty">Saved conversations appear here.</div> : null}
      <ul>
        {conversations.map((c) => (
          <li key={c.id} className={c.id === currentId ? 'conversation-item active' : 'conversation-item'} data-testid={`conversation-${c.id}`}>
            <button type="button" className="conversation-open" onClick={() => void open(c.id)} data-testid="conversation-open">
              <span className="conversation-title">{c.title}</span>
              <span className="muted small">
                {c.lanes === 2 ? 'side by side · ' : ''}
                {formatAgo(c.updatedAt)}
              </span>
            </button>
            <button type="button" className="conversation-delete" aria-label={`Delete ${c.title}`} data-testid="conversation-delete" onClick={() => void remove(c.id)}>
              ×
            </button>
          </li>
        ))}
      </ul>
    </aside>
  );
}

function Transcript() {
  const turns = useApp((s) => s.conversation.turns);
  const lanes = useApp((s) => s.conversation.lanes.length);
  const regenerate = useApp((s) => s.regenerate);
  const end = useRef<HTMLDivElement>(null);
  useEffect(() => {
    end.current?.scrollIntoView({ block: 'nearest' });
  }, [turns.length]);
  if (turns.length === 0) return <div className="transcript-empty muted" data-testid="transcript-empty">Ask something below. Each answer shows its timings and what prefill and decode did.</div>;
  return (
    <div className="transcript" data-testid="transcript">
      {turns.map((t, i) => (
        <TurnView key={t.id} turn={t} lanes={lanes} last={i === turns.length - 1} onRegenerate={(lane) => void regenerate(t.id, lane)} />
      ))}
      <div ref={end} />
    </div>
  );
}

function TurnView({ turn, lanes, last, onRegenerate }: { turn: ChatTurn; lanes: number; last: boolean; onRegenerate: (lane: number) => void }) {
  const columns = Math.max(lanes, turn.replies.length, 1);
  return (
    <div className="turn" data-testid="turn">
      <div className="turn-user" data-testid="turn-user">
        {turn.user}
      </div>
      <div className="turn-replies" style={{ gridTemplateColumns: `repeat(${columns}, minmax(0, 1fr))` }}>
        {turn.replies.map((r) => (
          <ReplyCard key={r.streamId} reply={r} canRegenerate={last} onRegenerate={() => onRegenerate(r.lane)} />
        ))}
      </div>
    </div>
  );
}

function Composer() {
  const send = useApp((s) => s.sendMessage);
  const stop = useApp((s) => s.stopStream);
  const lanes = useApp((s) => s.conversation.lanes);
  const streaming = useApp((s) => s.conversation.turns.at(-1)?.replies.filter((r) => r.state === 'streaming').map((r) => r.streamId).join(' ') ?? '');
  const [text, setText] = useState('');
  const ready = lanes.every((l) => l.deployment !== null);
  const submit = () => {
    if (!text.trim() || streaming || !ready) return;
    void send(text);
    setText('');
  };
  return (
    <div className="composer card">
      <textarea
        data-testid="chat-input"
        rows={3}
        value={text}
        placeholder={ready ? 'Message (Ctrl+Enter to send)' : 'Pick a deployment first'}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            submit();
          }
        }}
      />
      <div className="composer-actions">
        {streaming ? (
          <button type="button" className="btn btn-danger" data-testid="chat-stop" onClick={() => streaming.split(' ').forEach((id) => void stop(id))}>
            Stop
          </button>
        ) : (
          <button type="button" className="btn btn-primary" data-testid="chat-send" disabled={!text.trim() || !ready} onClick={submit}>
            Send
          </button>
        )}
      </div>
    </div>
  );
}
