import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { ApiEventEnvelope, HandoffBridge } from '../../common/api-contract';
import { CALL_CHANNEL, EVENT_CHANNEL } from './ipc-channels';

// Runs sandboxed: only 'electron' may be required, so this file imports nothing with runtime code
// besides it (ipc-channels.ts is constants, inlined by the bundler). It exposes two plain
// functions on fixed channels, never ipcRenderer itself.
let nextId = 1;

const bridge: HandoffBridge = {
  call: (method: string, params: unknown) => ipcRenderer.invoke(CALL_CHANNEL, { id: nextId++, method, params }),
  onEvent: (listener: (envelope: ApiEventEnvelope) => void) => {
    const wrapped = (_e: IpcRendererEvent, envelope: ApiEventEnvelope): void => listener(envelope);
    ipcRenderer.on(EVENT_CHANNEL, wrapped);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, wrapped);
    };
  },
};

contextBridge.exposeInMainWorld('handoff', bridge);
