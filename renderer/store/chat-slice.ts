import type { StateCreator } from 'zustand';
import type { HandoffApi } from '../../common/api-contract';
import {
  conversationTitle,
  DEFAULT_CHAT_PARAMS,
  laneMessages,
  type ChatDone,
  type ChatParams,
  type ChatReply,
  type Conversation,
  type ConversationSummary,
} from '../../common/chat';
import type { DeploymentSummary } from '../../common/deployment-view';
import type { ErrorPayload } from '../../common/errors';
import { StreamText } from '../pages/playground/stream-text';
import { attempt } from './action-result';
import type { AppState } from './app-store';

export interface ChatSlice {
  conversations: ConversationSummary[];
  /** The open conversation (a new one is not saved until its first message). */
  conversation: Conversation;
  chatError: ErrorPayload | null;
  /** Text of streaming answers, outside the store (updated per frame). */
  readonly chatStreams: StreamText;
  loadConversations(): Promise<void>;
  newConversation(): void;
  openConversation(id: string): Promise<void>;
  deleteConversation(id: string): Promise<void>;
  setSystemPrompt(text: string): void;
  setChatParams(params: ChatParams): void;
  setLaneDeployment(lane: number, deployment: string | null): void;
  setSideBySide(on: boolean): void;
  sendMessage(text: string): Promise<void>;
  regenerate(turnId: string, lane: number): Promise<void>;
  stopStream(streamId: string): Promise<void>;
  applyChatDelta(streamId: string, text: string): void;
  applyChatDone(done: ChatDone): void;
}

const newId = (prefix: string) => `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

export function blankConversation(lanes: Conversation['lanes'] = [{ deployment: null }], params: ChatParams = { ...DEFAULT_CHAT_PARAMS }, systemPrompt = ''): Conversation {
  const now = new Date().toISOString();
  return { v: 1, id: newId('c'), title: 'New conversation', createdAt: now, updatedAt: now, systemPrompt, params, lanes, turns: [] };
}

/** A deployment one can chat with now. */
export function isChattable(d: DeploymentSummary): boolean {
  return d.stoppedAt === null && (d.state === 'ready' || d.state === 'degraded');
}

export const createChatSlice =
  (api: HandoffApi): StateCreator<AppState, [], [], ChatSlice> =>
  (set, get) => {
    /** Conversations with answers in flight, by stream, so an answer lands in its own conversation even after switching. */
    const streamOwner = new Map<string, string>();
    /** Conversations touched in this window that are not open (an answer may still be streaming into them). */
    const background = new Map<string, Conversation>();

    const save = (c: Conversation): void => {
      if (c.turns.length === 0) return;
      void attempt(() => api.call('conversations.save', c)).then((r) => {
        if (!r.ok) {
          set({ chatError: r.error });
          return;
        }
        set((s) => ({ conversations: [r.value, ...s.conversations.filter((x) => x.id !== r.value.id)].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt)) }));
      });
    };

    /** Changes a conversation wherever it lives (open or in the background) and saves it when asked. */
    const update = (id: string, fn: (c: Conversation) => Conversation, persist: boolean): void => {
      const open = get().conversation;
      const current = open.id === id ? open : background.get(id);
      if (!current) return;
      const next = { ...fn(current), updatedAt: new Date().toISOString() };
      if (open.id === id) set({ conversation: next });
      else background.set(id, next);
      if (persist) save(next);
    };

    const patchReply = (c: Conversation, streamId: string, fn: (r: ChatReply) => ChatReply): Conversation => ({
      ...c,
      turns: c.turns.map((t) => (t.replies.some((r) => r.streamId === streamId) ? { ...t, replies: t.replies.map((r) => (r.streamId === streamId ? fn(r) : r)) } : t)),
    });

    /** Starts one lane's answer to turn `turnIndex` of the open conversation. */
    const startReply = async (turnIndex: number, lane: number): Promise<void> => {
      const conv = get().conversation;
      const turn = conv.turns[turnIndex];
      const ref = conv.lanes[lane]?.deployment ?? null;
      if (!turn) return;
      const dep = get().deployments.find((d) => d.id === ref) ?? null;
      const streamId = newId(`s${lane}`);
      const reply: ChatReply = {
        lane, streamId, requestId: null, deploymentId: dep?.id ?? ref, deploymentName: dep?.name ?? ref ?? 'no deployment',
        simulated: dep?.simulated ?? false, mode: dep?.mode ?? null, content: '', state: 'streaming', stats: null, trace: null, traceNote: null, error: null,
        startedAt: new Date().toISOString(),
      };
      update(conv.id, (c) => ({ ...c, turns: c.turns.map((t, i) => (i === turnIndex ? { ...t, replies: [...t.replies.filter((r) => r.lane !== lane), reply].sort((a, b) => a.lane - b.lane) } : t)) }), true);
      if (!ref) {
        const error = { code: 'no-deployment', message: 'Pick a running deployment above, or start one on the Deployments page.' };
        update(conv.id, (c) => patchReply(c, streamId, (r) => ({ ...r, state: 'error', error })), true);
        return;
      }
      streamOwner.set(streamId, conv.id);
      const messages = laneMessages(get().conversation, lane, turnIndex);
      const r = await attempt(() => api.call('chat.start', { streamId, deployment: ref, messages, params: conv.params }));
      if (!r.ok) {
        streamOwner.delete(streamId);
        update(conv.id, (c) => patchReply(c, streamId, (x) => ({ ...x, state: 'error', error: r.error })), true);
        return;
      }
      const s = r.value;
      update(streamOwner.get(streamId) ?? conv.id, (c) =>
        patchReply(c, streamId, (x) => ({ ...x, requestId: s.requestId, deploymentId: s.deploymentId, deploymentName: s.deploymentName, simulated: s.simulated, mode: s.mode })),
        false,
      );
    };

    return {
      conversations: [],
      conversation: blankConversation(),
      chatError: null,
      chatStreams: new StreamText(),
      loadConversations: async () => {
        const r = await attempt(() => api.call('conversations.list'));
        if (r.ok) set({ conversations: r.value });
        else set({ chatError: r.error });
      },
      newConversation: () => {
        const c = get().conversation;
        if (c.turns.length > 0) background.set(c.id, c);
        set({ conversation: blankConversation(c.lanes, c.params, c.systemPrompt), chatError: null });
      },
      openConversation: async (id) => {
        const c = get().conversation;
        if (c.id === id) return;
        const cached = background.get(id);
        const r = cached ? { ok: true as const, value: cached } : await attempt(() => api.call('conversations.get', { id }));
        if (!r.ok) {
          set({ chatError: r.error });
          return;
        }
        if (c.turns.length > 0) background.set(c.id, c);
        background.delete(id);
        set({ conversation: r.value, chatError: null });
      },
      deleteConversation: async (id) => {
        const r = await attempt(() => api.call('conversations.delete', { id }));
        if (!r.ok) {
          set({ chatError: r.error });
          return;
        }
        background.delete(id);
        set((s) => ({ conversations: s.conversations.filter((x) => x.id !== id) }));
        if (get().conversation.id === id) set({ conversation: blankConversation(get().conversation.lanes, get().conversation.params, get().conversation.systemPrompt) });
      },
      setSystemPrompt: (systemPrompt) => update(get().conversation.id, (c) => ({ ...c, systemPrompt }), false),
      setChatParams: (params) => update(get().conversation.id, (c) => ({ ...c, params }), false),
      setLaneDeployment: (lane, deployment) => update(get().conversation.id, (c) => ({ ...c, lanes: c.lanes.map((l, i) => (i === lane ? { deployment } : l)) }), false),
      setSideBySide: (on) =>
        update(
          get().conversation.id,
          (c) => {
            if (!on) return { ...c, lanes: c.lanes.slice(0, 1) };
            if (c.lanes.length === 2) return c;
            const other = get().deployments.find((d) => isChattable(d) && d.id !== c.lanes[0]?.deployment);
            return { ...c, lanes: [...c.lanes, { deployment: other?.id ?? null }] };
          },
          false,
        ),
      sendMessage: async (text) => {
        const user = text.trim();
        if (!user) return;
        const conv = get().conversation;
        const turn = { id: newId('t'), user, at: new Date().toISOString(), replies: [] };
        update(conv.id, (c) => ({ ...c, title: c.turns.length === 0 ? conversationTitle(user) : c.title, turns: [...c.turns, turn] }), false);
        const index = get().conversation.turns.length - 1;
        await Promise.all(get().conversation.lanes.map((_, lane) => startReply(index, lane)));
      },
      regenerate: async (turnId, lane) => {
        const index = get().conversation.turns.findIndex((t) => t.id === turnId);
        if (index >= 0) await startReply(index, lane);
      },
      stopStream: async (streamId) => {
        await attempt(() => api.call('chat.stop', { streamId }));
      },
      applyChatDelta: (streamId, text) => get().chatStreams.append(streamId, text),
      applyChatDone: (d) => {
        const owner = streamOwner.get(d.streamId);
        streamOwner.delete(d.streamId);
        if (!owner) return;
        update(
          owner,
          (c) =>
            patchReply(c, d.streamId, (r) => ({
              ...r,
              requestId: d.requestId,
              content: d.text,
              state: d.outcome === 'ok' ? 'done' : d.outcome === 'stopped' ? 'stopped' : 'error',
              stats: d.stats,
              trace: d.trace,
              traceNote: d.traceNote,
              error: d.error,
            })),
          true,
        );
        get().chatStreams.drop(d.streamId);
      },
    };
  };
