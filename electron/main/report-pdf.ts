import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BrowserWindow, session } from 'electron';
import type { PdfRenderer } from '../control/reports/report-pdf';

/**
 * The desktop app prints report PDFs with its own Chromium (webContents.printToPDF), so it needs
 * no separate browser. The report is loaded from a private temporary file into a hidden,
 * sandboxed window with JavaScript off, in a session that cancels every request but the file
 * itself: printing can never reach the network.
 */
export function electronPdfRenderer(): PdfRenderer {
  return async (html, signal) => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'handoff-pdf-'));
    const file = path.join(dir, 'report.html');
    await fs.writeFile(file, html, { mode: 0o600 });
    const ses = session.fromPartition('handoff-report-pdf');
    ses.webRequest.onBeforeRequest((details, callback) => callback({ cancel: !(details.url.startsWith('file://') || details.url.startsWith('data:')) }));
    const win = new BrowserWindow({ show: false, webPreferences: { session: ses, sandbox: true, contextIsolation: true, nodeIntegration: false, javascript: false } });
    const onAbort = () => win.destroy();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await win.loadFile(file);
      return await win.webContents.printToPDF({ printBackground: true, pageSize: 'A4', margins: { top: 0.5, bottom: 0.5, left: 0.4, right: 0.4 } });
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (!win.isDestroyed()) win.destroy();
      await fs.rm(dir, { recursive: true, force: true });
    }
  };
}
