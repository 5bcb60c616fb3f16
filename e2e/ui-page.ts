import { expect, type Page } from '@playwright/test';
import { screenshotPath, type UiServer } from './ui-fixture';

/** Collects page errors and console errors, so a test can assert the page stayed clean. */
export function watchPage(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  return errors;
}

/** Opens the UI (optionally at a #/route) and waits until its API WebSocket is connected. */
export async function openApp(page: Page, ui: UiServer, opts: { hash?: string; height?: number } = {}): Promise<void> {
  await page.setViewportSize({ width: 1400, height: opts.height ?? 900 });
  await page.goto(`${ui.serve.url}${opts.hash ?? ''}`);
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
}

/** A whole-page screenshot: the content pane scrolls inside the window, so grow the window to it. */
export async function fullShot(page: Page, name: string, maxHeight = 5000): Promise<void> {
  const h = await page.evaluate(() => {
    const c = document.querySelector('.content');
    return c ? c.scrollHeight + 40 : document.body.scrollHeight;
  });
  const vp = page.viewportSize() ?? { width: 1400, height: 900 };
  await page.setViewportSize({ width: vp.width, height: Math.min(Math.max(h, 700), maxHeight) });
  await page.screenshot({ path: screenshotPath(name) });
  await page.setViewportSize(vp);
}
