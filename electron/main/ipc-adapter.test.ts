import { EventEmitter } from 'node:events';
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { describe, expect, it } from 'vitest';
import { ApiReply, type ApiEventEnvelope } from '../../common/api-contract';
import type { ApiHandler } from '../control/api-handler';
import { attachIpcAdapter } from './ipc-adapter';
import { APP_ENTRY_URL, CALL_CHANNEL, EVENT_CHANNEL } from './ipc-channels';
import { isAppUrl, senderProblem } from './sender-check';

type Invoke = (event: IpcMainInvokeEvent, raw: unknown) => Promise<unknown>;

/** Stand-ins for Electron's objects, shaped like the parts the adapter touches. */
function fakeIpcMain() {
  const handlers = new Map<string, Invoke>();
  const ipc = {
    handle: (channel: string, fn: Invoke) => void handlers.set(channel, fn),
    removeHandler: (channel: string) => void handlers.delete(channel),
  } as unknown as Pick<IpcMain, 'handle' | 'removeHandler'>;
  return { ipc, handlers };
}

function fakeContents(id: number) {
  const sent: Array<[string, unknown]> = [];
  const emitter = new EventEmitter();
  const contents = Object.assign(emitter, { id, sent, isDestroyed: () => false, send: (ch: string, v: unknown) => sent.push([ch, v]) });
  return contents as unknown as WebContents & { sent: typeof sent; emit(e: string): boolean };
}

function invokeEvent(contentsId: number, url = APP_ENTRY_URL, isMainFrame = true): IpcMainInvokeEvent {
  return { sender: { id: contentsId }, senderFrame: { url, parent: isMainFrame ? null : {} } } as unknown as IpcMainInvokeEvent;
}

function testHandler(): ApiHandler & { emit(e: ApiEventEnvelope): void } {
  const listeners = new Set<(e: ApiEventEnvelope) => void>();
  return {
    handle: async (method) => (method === 'app.info' ? { version: 't', mode: 'electron', home: '/h' } : null),
    subscribe: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    emit: (e) => listeners.forEach((l) => l(e)),
  };
}

describe('Electron IPC adapter', () => {
  it('answers calls from the trusted window with reply envelopes', async () => {
    const { ipc, handlers } = fakeIpcMain();
    const adapter = attachIpcAdapter(ipc, testHandler(), () => {});
    const win = fakeContents(7);
    adapter.trust(win);
    const reply = ApiReply.parse(await handlers.get(CALL_CHANNEL)!(invokeEvent(7), { id: 3, method: 'app.info' }));
    expect(reply).toEqual({ id: 3, ok: true, result: { version: 't', mode: 'electron', home: '/h' } });
  });

  it('refuses other windows, sub-frames and foreign origins without running the call', async () => {
    const { ipc, handlers } = fakeIpcMain();
    const logs: string[] = [];
    const adapter = attachIpcAdapter(ipc, testHandler(), (m) => logs.push(m));
    adapter.trust(fakeContents(7));
    const call = handlers.get(CALL_CHANNEL)!;
    const msg = { id: 1, method: 'app.info' };
    for (const ev of [invokeEvent(8), invokeEvent(7, APP_ENTRY_URL, false), invokeEvent(7, 'https://evil.example/'), invokeEvent(7, 'file:///etc/passwd')]) {
      expect(await call(ev, msg)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    }
    expect(logs).toHaveLength(4);
  });

  it('answers malformed envelopes with a bad-message reply', async () => {
    const { ipc, handlers } = fakeIpcMain();
    const adapter = attachIpcAdapter(ipc, testHandler(), () => {});
    adapter.trust(fakeContents(7));
    const call = handlers.get(CALL_CHANNEL)!;
    expect(await call(invokeEvent(7), 'hello')).toMatchObject({ id: 0, ok: false, error: { code: 'bad-message' } });
    expect(await call(invokeEvent(7), { id: 2 })).toMatchObject({ id: 2, ok: false, error: { code: 'bad-message' } });
    expect(await call(invokeEvent(7), { id: 4, method: 'nope' })).toMatchObject({ id: 4, ok: false, error: { code: 'unknown-method' } });
  });

  it('forwards events to trusted windows only, and forgets a window once destroyed', () => {
    const { ipc } = fakeIpcMain();
    const handler = testHandler();
    const adapter = attachIpcAdapter(ipc, handler, () => {});
    const win = fakeContents(7);
    adapter.trust(win);
    handler.emit({ event: 'hosts.changed', data: [] });
    expect(win.sent).toEqual([[EVENT_CHANNEL, { event: 'hosts.changed', data: [] }]]);
    win.emit('destroyed');
    handler.emit({ event: 'hosts.changed', data: [] });
    expect(win.sent).toHaveLength(1);
  });
});

describe('sender checks', () => {
  it('recognises only the app origin, parsed rather than by prefix', () => {
    expect(isAppUrl('handoff://app/index.html')).toBe(true);
    expect(isAppUrl('handoff://app/assets/x.js#/hosts')).toBe(true);
    expect(isAppUrl('handoff://app.evil/index.html')).toBe(false);
    expect(isAppUrl('handoff://user@app/index.html')).toBe(false);
    expect(isAppUrl('https://app/index.html')).toBe(false);
    expect(isAppUrl('not a url')).toBe(false);
  });

  it('says why a sender is refused', () => {
    const trusted = new Set([1]);
    expect(senderProblem({ webContentsId: 1, frame: { url: APP_ENTRY_URL, isMainFrame: true } }, trusted)).toBeNull();
    expect(senderProblem({ webContentsId: 1, frame: null }, trusted)).toMatch(/gone/);
    expect(senderProblem({ webContentsId: 2, frame: { url: APP_ENTRY_URL, isMainFrame: true } }, trusted)).toMatch(/not a Handoff window/);
  });
});
