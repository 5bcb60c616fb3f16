import { APP_HOST, APP_SCHEME } from './ipc-channels';

/** Whether a URL belongs to the app's own origin (compared parsed, never by string prefix). */
export function isAppUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST && u.username === '' && u.password === '' && u.port === '';
  } catch {
    return false;
  }
}

/** What main knows about who sent an IPC message. */
export interface SenderFacts {
  webContentsId: number;
  /** null when the frame navigated away or was destroyed before the message was handled. */
  frame: { url: string; isMainFrame: boolean } | null;
}

/**
 * Why a sender may not use the API, or null when it may: it must be one of our windows, from its
 * main frame (not an iframe), showing our own origin (Electron security checklist #17).
 */
export function senderProblem(sender: SenderFacts, trustedWebContents: ReadonlySet<number>): string | null {
  if (!trustedWebContents.has(sender.webContentsId)) return 'the sender is not a Handoff window';
  if (!sender.frame) return 'the sending frame is gone';
  if (!sender.frame.isMainFrame) return 'the sender is a sub-frame';
  if (!isAppUrl(sender.frame.url)) return `the sender shows ${JSON.stringify(sender.frame.url)}, not the app`;
  return null;
}
