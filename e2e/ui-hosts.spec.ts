import net from 'node:net';
import { expect, test, type Page } from '@playwright/test';
import { CLIENT_KEY_PASSPHRASE, sshdUnavailableReason, startSshd, type SshdInstance } from './harness/sshd';
import { screenshotPath, startUiServer, type UiServer } from './ui-fixture';

const skip = sshdUnavailableReason();

test.describe.configure({ mode: 'serial' });
test.skip(skip !== null, `needs the real sshd harness: ${skip}`);

let ui: UiServer;
const sshds: SshdInstance[] = [];

test.beforeAll(async () => {
  ui = await startUiServer();
});
test.afterEach(async () => {
  await Promise.all(sshds.splice(0).map((s) => s.stop()));
});
test.afterAll(async () => {
  await ui?.close();
});

async function sshd(opts: Parameters<typeof startSshd>[0] = {}): Promise<SshdInstance> {
  const s = await startSshd(opts);
  sshds.push(s);
  return s;
}

async function openAddHost(page: Page): Promise<void> {
  await page.setViewportSize({ width: 1320, height: 900 });
  await page.goto(ui.serve.url);
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'open');
  await page.getByTestId('hosts-add').click();
}

async function fillAddHost(page: Page, name: string, target: string, identityFile: string): Promise<void> {
  await page.getByTestId('add-host-name').fill(name);
  await page.getByTestId('add-host-target').fill(target);
  await page.getByTestId('add-host-identityFile').fill(identityFile);
  await page.getByTestId('add-host-test').click();
}

test('adds the loopback host through the UI, trusts its key and shows the GPU table', async ({ page }) => {
  test.setTimeout(240_000);
  const s = await sshd({ fakeGpus: 4 });
  await openAddHost(page);
  await fillAddHost(page, 'loopback', `${s.user}@127.0.0.1:${s.port}`, s.keys.plain);

  const progress = page.getByTestId('task-progress');
  await expect(progress).toBeVisible();
  const dialog = page.getByTestId('trust-host-key-dialog');
  await expect(dialog).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('trust-host-key-fingerprint')).toHaveText(s.hostFingerprintSha256);
  await expect(page.getByTestId('trust-host-key-host')).toHaveText(`127.0.0.1:${s.port}`);
  await expect(page.getByTestId('trust-host-key-type')).toContainText('ed25519');
  await expect(page.getByTestId('task-step-tcp')).toHaveAttribute('data-state', 'done');
  await page.screenshot({ path: screenshotPath('hosts-trust-dialog') });
  await page.getByTestId('trust-host-key-accept').click();
  await expect(dialog).toHaveCount(0);

  await expect(progress).toHaveAttribute('data-state', 'succeeded', { timeout: 180_000 });
  const steps = progress.locator('[data-testid^="task-step-"][data-state]');
  await expect(steps).toHaveCount(5);
  for (const st of await steps.all()) await expect(st).toHaveAttribute('data-state', 'done');
  await page.screenshot({ path: screenshotPath('hosts-add-succeeded') });

  await page.getByTestId('add-host-open').click();
  await expect(page.getByTestId('host-view')).toBeVisible();
  await expect(page.getByTestId('host-status')).toHaveAttribute('data-state', 'connected');
  await expect(page.getByTestId('gpu-count')).toHaveText('4');
  await expect(page.getByTestId('gpu-table').locator('tbody tr')).toHaveCount(4);
  await expect(page.getByTestId('gpu-name-0')).toContainText('H100');
  await expect(page.getByTestId('topology-matrix')).toBeVisible();
  await expect(page.getByTestId('topo-GPU0-GPU1')).toHaveText(/^NV\d+$/);
  await expect(page.getByTestId('tool-versions')).toBeVisible();
  // The content pane scrolls inside the window; a tall viewport captures the whole host view.
  await page.setViewportSize({ width: 1320, height: 1500 });
  await page.screenshot({ path: screenshotPath('hosts-gpu-table') });
  await page.setViewportSize({ width: 1320, height: 900 });
  await test.info().attach('gpu-table', { path: screenshotPath('hosts-gpu-table'), contentType: 'image/png' });

  // The list shows it too; a re-check reuses the trusted key (no dialog) and succeeds.
  await page.getByTestId('host-recheck').click();
  await expect(page.getByTestId('task-progress')).toHaveAttribute('data-state', 'succeeded', { timeout: 60_000 });
  await expect(page.getByTestId('trust-host-key-dialog')).toHaveCount(0);
  await page.getByTestId('crumb-hosts').click();
  await expect(page.getByTestId('host-status-loopback')).toHaveAttribute('data-state', 'connected');
  await expect(page.getByTestId('host-gpus-loopback')).toContainText('4 × ');
  await page.screenshot({ path: screenshotPath('hosts-list'), fullPage: true });

  await page.getByTestId('host-open-loopback').click();
  await page.getByTestId('host-remove').click();
  await page.getByTestId('remove-host-confirm').click();
  await expect(page.getByTestId('page-hosts')).toBeVisible();
  await expect(page.getByTestId('host-row-loopback')).toHaveCount(0);
});

test('refusing an unknown host key fails the check and says what to do next', async ({ page }) => {
  test.setTimeout(90_000);
  const s = await sshd();
  await openAddHost(page);
  await fillAddHost(page, 'untrusted', `${s.user}@127.0.0.1:${s.port}`, s.keys.plain);
  await expect(page.getByTestId('trust-host-key-dialog')).toBeVisible({ timeout: 30_000 });
  await page.getByTestId('trust-host-key-cancel').click();
  const progress = page.getByTestId('task-progress');
  await expect(progress).toHaveAttribute('data-state', 'failed', { timeout: 30_000 });
  await expect(page.getByTestId('task-step-host-key')).toHaveAttribute('data-state', 'failed');
  const error = page.getByTestId('task-error');
  await expect(error).toHaveAttribute('data-error-code', 'host-key-unknown');
  await expect(error).toContainText(s.hostFingerprintSha256);
  await expect(page.getByTestId('add-host-retry-hint')).toBeVisible();
  await expect(page.getByTestId('add-host-test')).toHaveText('Test again');
  await page.screenshot({ path: screenshotPath('hosts-trust-refused'), fullPage: true });
  await page.getByTestId('crumb-hosts').click();
  await expect(page.getByTestId('host-status-untrusted')).toHaveAttribute('data-state', 'needs-trust');
  await page.getByTestId('host-open-untrusted').click();
  await expect(page.getByTestId('host-view')).toContainText('compare the fingerprint');
  await page.getByTestId('host-remove').click();
  await page.getByTestId('remove-host-confirm').click();
});

test('a passphrase-protected key is unlocked through the dialog before connecting, and a wrong key fails with an auth error', async ({ page }) => {
  test.setTimeout(240_000);
  const s = await sshd({ fakeGpus: 2 });
  await openAddHost(page);
  await fillAddHost(page, 'locked', `${s.user}@127.0.0.1:${s.port}`, s.keys.encrypted);
  // Keys are decrypted before any network traffic, so the passphrase comes before the host key.
  await expect(page.getByTestId('passphrase-dialog')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('passphrase-key-file')).toHaveText(s.keys.encrypted);
  await page.getByTestId('passphrase-input').fill(CLIENT_KEY_PASSPHRASE);
  await page.screenshot({ path: screenshotPath('hosts-passphrase-dialog') });
  await page.getByTestId('passphrase-submit').click();
  await expect(page.getByTestId('trust-host-key-dialog')).toBeVisible({ timeout: 30_000 });
  await page.getByTestId('trust-host-key-accept').click();
  await expect(page.getByTestId('task-progress')).toHaveAttribute('data-state', 'succeeded', { timeout: 180_000 });

  await page.getByTestId('crumb-hosts').click();
  await page.getByTestId('hosts-add').click();
  await fillAddHost(page, 'wrongkey', `${s.user}@127.0.0.1:${s.port}`, s.keys.unauthorized);
  const progress = page.getByTestId('task-progress');
  await expect(progress).toHaveAttribute('data-state', 'failed', { timeout: 60_000 });
  await expect(page.getByTestId('task-step-auth')).toHaveAttribute('data-state', 'failed');
  await expect(page.getByTestId('task-error')).toContainText(/authorized_keys|refused|key/i);
  await page.screenshot({ path: screenshotPath('hosts-auth-failed'), fullPage: true });
  await page.getByTestId('crumb-hosts').click();
  await expect(page.getByTestId('host-status-wrongkey')).toHaveAttribute('data-state', 'auth-failed');
});

test('a connection attempt that hangs can be cancelled from its progress', async ({ page }) => {
  test.setTimeout(90_000);
  // Accepts TCP and never speaks SSH: the check sits in the handshake until cancelled.
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  try {
    const port = (silent.address() as net.AddressInfo).port;
    await openAddHost(page);
    await fillAddHost(page, 'silent', `nobody@127.0.0.1:${port}`, '');
    const progress = page.getByTestId('task-progress');
    await expect(page.getByTestId('task-step-tcp')).toHaveAttribute('data-state', /running|done/);
    await expect(progress).toHaveAttribute('data-state', 'running');
    await page.getByTestId('task-cancel').click();
    await expect(page.getByTestId('task-cancel').or(page.getByTestId('task-cancelled'))).toBeVisible();
    await expect(progress).toHaveAttribute('data-state', 'cancelled', { timeout: 30_000 });
    await expect(page.getByTestId('task-cancelled')).toBeVisible();
    await expect(page.getByTestId('task-cancel')).toHaveCount(0);
  } finally {
    for (const sock of sockets) sock.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
  }
});
