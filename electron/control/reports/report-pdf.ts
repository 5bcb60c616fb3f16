import fs from 'node:fs';
import { UserFacingError } from '../../../common/errors';

/**
 * PDF of the HTML report. The desktop app prints with Electron's own Chromium (printToPDF,
 * registered by electron/main); the browser UI and the CLI print with headless Chromium through
 * playwright-core (issue 8). Either way the page is the same self-contained HTML, whose CSP
 * forbids any network request, so printing never reaches out.
 */
export type PdfRenderer = (html: string, signal?: AbortSignal) => Promise<Buffer>;

const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/** $HANDOFF_CHROMIUM, $CHROMIUM_PATH, or the first Chromium found in the usual places. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  for (const p of [env.HANDOFF_CHROMIUM, env.CHROMIUM_PATH, ...CHROMIUM_CANDIDATES]) {
    if (p && fs.existsSync(p)) return p;
  }
  return null;
}

export function chromiumPdfRenderer(opts: { executablePath?: string } = {}): PdfRenderer {
  return async (html, signal) => {
    const executablePath = opts.executablePath ?? findChromium();
    if (!executablePath) {
      throw new UserFacingError(
        'pdf-no-chromium',
        'PDF export needs Chromium, and none was found (looked at $HANDOFF_CHROMIUM, $CHROMIUM_PATH, /usr/bin/chromium, /usr/bin/google-chrome). Install Chromium (Debian: "apt-get install chromium") or set HANDOFF_CHROMIUM to its path; or export HTML and print it from a browser.',
      );
    }
    // Loaded on demand: the desktop app prints with Electron instead and never needs it.
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const onAbort = () => void browser.close().catch(() => undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const context = await browser.newContext({ offline: true, javaScriptEnabled: false });
      const page = await context.newPage();
      // The report is self-contained; anything it would fetch is a bug, so refuse it outright.
      await page.route('**/*', (route) => (route.request().url().startsWith('data:') ? route.continue() : route.abort()));
      await page.setContent(html, { waitUntil: 'load' });
      await page.emulateMedia({ media: 'print' });
      const pdf = await page.pdf({ format: 'A4', printBackground: true, margin: { top: '12mm', bottom: '12mm', left: '10mm', right: '10mm' } });
      return Buffer.from(pdf);
    } catch (err) {
      if (signal?.aborted) throw new UserFacingError('cancelled', 'Cancelled.');
      throw new UserFacingError('pdf-failed', `Chromium (${executablePath}) could not print the report: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}. Export HTML instead and print it from a browser.`);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await browser.close().catch(() => undefined);
    }
  };
}
