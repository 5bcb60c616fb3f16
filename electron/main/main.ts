import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, dialog, ipcMain, protocol, session, shell, type BrowserWindow } from 'electron';
import { createController } from '../control/controller';
import { serveAppRequest } from './app-protocol';
import { desktopAgentArtifacts } from './agent-artifacts';
import { attachIpcAdapter } from './ipc-adapter';
import { APP_SCHEME } from './ipc-channels';
import { hardenApp } from './security';
import { electronPdfRenderer } from './report-pdf';
import { createMainWindow } from './window';

// Bundled to dist/electron/main.cjs; the renderer and agent artifacts sit beside it in dist/.
const here = path.dirname(fileURLToPath(import.meta.url));
const distDir = path.resolve(here, '..');

// The same folder the CLI defaults to (electron/control/storage/app-home.ts), whatever the
// package name, so the app and `handoff hosts list` see the same hosts.
app.setPath('userData', path.join(app.getPath('appData'), 'Handoff'));
app.enableSandbox();
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true } }]);

async function start(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  await app.whenReady();
  hardenApp(app, session.defaultSession);
  protocol.handle(APP_SCHEME, (request) => serveAppRequest(path.join(distDir, 'renderer'), request));

  const home = process.env.HANDOFF_HOME ? path.resolve(process.env.HANDOFF_HOME) : app.getPath('userData');
  const controller = await createController({
    home,
    mode: 'electron',
    artifacts: desktopAgentArtifacts(path.join(distDir, 'agent')),
    pdfRenderer: electronPdfRenderer(),
    reportOpener: { open: (file) => shell.openPath(file), reveal: (file) => shell.showItemInFolder(file) },
  });
  const ipc = attachIpcAdapter(ipcMain, controller);

  let win: BrowserWindow | null = null;
  const open = (): void => {
    win = createMainWindow(path.join(here, 'preload.cjs'));
    ipc.trust(win.webContents);
    win.on('closed', () => {
      win = null;
    });
  };
  open();
  app.on('second-instance', () => {
    if (!win) return open();
    if (win.isMinimized()) win.restore();
    win.focus();
  });
  app.on('activate', () => {
    if (!win) open();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  let closing = false;
  app.on('before-quit', (event) => {
    if (closing) return;
    closing = true;
    event.preventDefault();
    ipc.dispose();
    void controller.close().finally(() => app.exit(0));
  });
}

start().catch((err: unknown) => {
  dialog.showErrorBox('Handoff cannot start', err instanceof Error ? err.message : String(err));
  app.exit(1);
});
