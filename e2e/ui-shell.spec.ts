import { expect, test, type Page } from '@playwright/test';
import { screenshotPath, startUiServer, type UiServer } from './ui-fixture';

let ui: UiServer;

test.beforeAll(async () => {
  ui = await startUiServer();
});
test.afterAll(async () => {
  await ui?.close();
});

/** Fails the test on any request that leaves the page's own origin, and on console errors. */
function watchPage(page: Page): { foreign: string[]; errors: string[] } {
  const seen = { foreign: [] as string[], errors: [] as string[] };
  const origin = new URL(ui.serve.url).origin;
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith('ws://127.0.0.1') && !u.startsWith('data:')) seen.foreign.push(u);
  });
  page.on('console', (m) => {
    if (m.type() === 'error') seen.errors.push(m.text());
  });
  page.on('pageerror', (e) => seen.errors.push(e.message));
  return seen;
}

test('the shell shows the five pages, and the Reports page of a fresh home says what to do first, with no data', async ({ page }) => {
  const seen = watchPage(page);
  await page.setViewportSize({ width: 1320, height: 820 });
  await page.goto(ui.serve.url);
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
  for (const id of ['hosts', 'deployments', 'playground', 'benchmarks', 'reports']) await expect(page.getByTestId(`nav-${id}`)).toBeVisible();
  await expect(page.getByTestId('banner-area')).toBeAttached();

  await expect(page.getByTestId('page-hosts')).toBeVisible();
  await expect(page.getByTestId('host-row-this-computer')).toContainText('This computer');
  await page.screenshot({ path: screenshotPath('shell-hosts'), fullPage: true });

  const expectations: Record<string, RegExp> = {
    reports: /aggregated-vs-disaggregated comparison/,
  };
  for (const [id, text] of Object.entries(expectations)) {
    await page.getByTestId(`nav-${id}`).click();
    await expect(page).toHaveURL(new RegExp(`#/${id}$`));
    const body = page.getByTestId(`page-${id}`);
    // A fresh home has no runs: the page says what to do first instead of an empty table.
    await expect(body.getByTestId('reports-empty')).toContainText('Nothing to report yet');
    await expect(body).toContainText(text);
    await expect(body.locator('table')).toHaveCount(0);
    await expect(page.getByTestId(`nav-${id}`)).toHaveAttribute('aria-current', 'page');
  }
  await page.screenshot({ path: screenshotPath('shell-reports') });

  // The route lives in the hash: a reload stays on the page, token still in the URL.
  await page.reload();
  await expect(page.getByTestId('page-reports')).toBeVisible();
  await page.goBack();
  await expect(page.getByTestId('page-hosts')).toBeVisible();

  expect(seen.foreign).toEqual([]);
  expect(seen.errors).toEqual([]);
});

test('the add-host form says what to fix before anything is saved', async ({ page }) => {
  await page.setViewportSize({ width: 1320, height: 820 });
  await page.goto(ui.serve.url);
  await page.getByTestId('hosts-add').click();
  await expect(page).toHaveURL(/#\/hosts\/new$/);
  await page.getByTestId('add-host-test').click();
  await expect(page.getByTestId('add-host-name-error')).toContainText('Give the host a short name');
  await expect(page.getByTestId('add-host-target-error')).toContainText('USER@HOST');
  await page.getByTestId('add-host-name').fill('this-computer');
  await page.getByTestId('add-host-target').fill('me@host:70000');
  await page.getByTestId('add-host-jump').fill('a b');
  await page.getByTestId('add-host-test').click();
  await expect(page.getByTestId('add-host-name-error')).toContainText('already exists');
  await expect(page.getByTestId('add-host-target-error')).toContainText('is not an SSH address');
  await expect(page.getByTestId('add-host-jump-error')).toContainText('Leave it empty');
  await expect(page.getByTestId('task-progress')).toHaveCount(0);
  await page.screenshot({ path: screenshotPath('add-host-validation'), fullPage: true });
  await page.getByTestId('crumb-hosts').click();
  await expect(page.locator('[data-testid^="host-row-"]')).toHaveCount(1);
});

test('the page and the API refuse a missing or wrong token', async ({ page, request }) => {
  const base = new URL(ui.serve.url).origin;
  expect((await request.get(`${base}/`)).status()).toBe(401);
  expect((await request.get(`${base}/?token=wrong`)).status()).toBe(401);
  await page.goto(ui.serve.url.replace(/token=[^&]+/, `token=${'x'.repeat(43)}`));
  await expect(page.locator('body')).toContainText('Open the URL printed by "handoff serve"');
});

test('This computer can be checked from its page, and shows what the machine has', async ({ page }) => {
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 1320, height: 1200 });
  await page.goto(ui.serve.url);
  await page.getByTestId('host-open-this-computer').click();
  await expect(page.getByTestId('host-title')).toHaveText('This computer');
  await expect(page.getByTestId('host-remove')).toHaveCount(0);
  await page.getByTestId('host-recheck').click();
  const progress = page.getByTestId('task-progress');
  await expect(progress).toHaveAttribute('data-state', 'succeeded', { timeout: 90_000 });
  await expect(page.getByTestId('host-status')).toHaveAttribute('data-state', 'connected');
  await expect(page.getByTestId('fact-hostname')).not.toBeEmpty();
  await expect(page.getByTestId('gpu-table').or(page.getByTestId('gpu-none'))).toBeVisible();
  await expect(page.getByTestId('tool-versions')).toBeVisible();
  await page.screenshot({ path: screenshotPath('host-this-computer') });
});

test('a lost connection to the server is shown in the banner area with what to do', async ({ page }) => {
  const own = await startUiServer();
  try {
    await page.goto(own.serve.url);
    await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
    await expect(page.getByTestId('banner-connection')).toHaveCount(0);
    await own.serve.close();
    await expect(page.getByTestId('banner-connection')).toContainText('handoff serve');
    await expect(page.getByTestId('connection-state')).not.toHaveAttribute('data-state', 'open');
    await page.screenshot({ path: screenshotPath('shell-connection-lost') });
  } finally {
    await own.close();
  }
});
