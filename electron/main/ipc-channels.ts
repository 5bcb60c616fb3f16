/**
 * The only IPC channels between the preload and main. Main refuses anything else, and every
 * channel shares one prefix so a stray listener can be spotted (VS Code's 'vscode:' rule).
 */
export const IPC_PREFIX = 'handoff:';
export const CALL_CHANNEL = `${IPC_PREFIX}call`;
export const EVENT_CHANNEL = `${IPC_PREFIX}event`;

/** The app's own origin: renderer files are served from handoff://app/ (see app-protocol.ts). */
export const APP_SCHEME = 'handoff';
export const APP_HOST = 'app';
export const APP_ENTRY_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;
