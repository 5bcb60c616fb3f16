import type { ApiEvent, ApiEventName, ApiMethodName, ApiParams, ApiResult, HandoffApi, HandoffBridge } from '../../common/api-contract';
import { EventHub, unwrapReply } from './api-replies';
import type { ConnectionAware } from './connection-status';

/**
 * HandoffApi over the Electron preload bridge. The bridge resolves with a reply envelope rather
 * than throwing, because Electron reduces errors thrown across IPC to their message text and
 * the UI needs the error code too.
 */
export function createBridgeClient(bridge: HandoffBridge): HandoffApi & ConnectionAware {
  const hub = new EventHub();
  bridge.onEvent((envelope) => hub.deliver(envelope));
  return {
    connection: { state: 'open' },
    onConnection: () => () => {},
    async call<M extends ApiMethodName>(method: M, params?: ApiParams<M>): Promise<ApiResult<M>> {
      return unwrapReply(method, await bridge.call(method, params));
    },
    on<E extends ApiEventName>(event: E, listener: (data: ApiEvent<E>) => void): () => void {
      return hub.on(event, listener);
    },
  };
}
