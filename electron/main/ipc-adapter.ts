import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import type { ApiEventEnvelope, ApiReply } from '../../common/api-contract';
import type { ApiHandler } from '../control/api-handler';
import { dispatchCall, UNATTRIBUTED_ID } from '../control/transport/dispatch';
import { CALL_CHANNEL, EVENT_CHANNEL } from './ipc-channels';
import { senderProblem, type SenderFacts } from './sender-check';

function senderFacts(event: IpcMainInvokeEvent): SenderFacts {
  const frame = event.senderFrame;
  return {
    webContentsId: event.sender.id,
    frame: frame ? { url: frame.url, isMainFrame: frame.parent === null } : null,
  };
}

export interface IpcAdapter {
  /** Lets a window use the API and receive events; forgotten when it is destroyed. */
  trust(contents: WebContents): void;
  dispose(): void;
}

/**
 * Carries the controller API over Electron IPC. Every call is checked for its sender and its
 * envelope (zod, in dispatchCall) and always resolves with a reply envelope: errors thrown across
 * IPC would reach the renderer as bare text, losing the error code.
 */
export function attachIpcAdapter(ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>, handler: ApiHandler, log: (msg: string) => void = console.warn): IpcAdapter {
  const trusted = new Map<number, WebContents>();
  const trustedIds = new Set<number>();

  ipcMain.handle(CALL_CHANNEL, async (event: IpcMainInvokeEvent, raw: unknown): Promise<ApiReply> => {
    const problem = senderProblem(senderFacts(event), trustedIds);
    if (problem) {
      log(`refused an API call: ${problem}`);
      return { id: UNATTRIBUTED_ID, ok: false, error: { code: 'forbidden', message: 'This page may not use the Handoff API.' } };
    }
    return dispatchCall(handler, raw);
  });

  const unsubscribe = handler.subscribe((envelope: ApiEventEnvelope) => {
    for (const contents of trusted.values()) {
      if (!contents.isDestroyed()) contents.send(EVENT_CHANNEL, envelope);
    }
  });

  return {
    trust(contents) {
      trusted.set(contents.id, contents);
      trustedIds.add(contents.id);
      contents.once('destroyed', () => {
        trusted.delete(contents.id);
        trustedIds.delete(contents.id);
      });
    },
    dispose() {
      unsubscribe();
      ipcMain.removeHandler(CALL_CHANNEL);
      trusted.clear();
      trustedIds.clear();
    },
  };
}
