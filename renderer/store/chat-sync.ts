import type { ApiEvent, HandoffApi } from '../../common/api-contract';
import type { AppStore } from './app-store';

/** Chat events into the store; returns the unsubscribe and a reload for when the connection (re)opens. */
export function startChatSync(store: AppStore, api: HandoffApi): { off: () => void; reload: () => Promise<void> } {
  const s = () => store.getState();
  const offs = [
    api.on('chat.delta', (d: ApiEvent<'chat.delta'>) => s().applyChatDelta(d.streamId, d.text)),
    api.on('chat.done', (d: ApiEvent<'chat.done'>) => s().applyChatDone(d)),
  ];
  return {
    off: () => offs.forEach((off) => off()),
    reload: async () => {
      await s().loadConversations();
    },
  };
}
