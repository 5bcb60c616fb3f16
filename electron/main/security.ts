import type { App, Session, WebContents } from 'electron';
import { isAppUrl } from './sender-check';

/**
 * App-wide hardening (Electron security checklist): no navigation away from the app, no new
 * windows, no webviews, and every permission request (camera, notifications…) denied.
 */
export function hardenApp(app: App, session: Session): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  app.on('web-contents-created', (_event, contents: WebContents) => {
    contents.on('will-navigate', (event, url) => {
      if (!isAppUrl(url)) event.preventDefault();
    });
    contents.on('will-redirect', (event, url) => {
      if (!isAppUrl(url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
}
