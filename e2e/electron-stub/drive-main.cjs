// Loads the bundled Electron main against the stub and reports, as one JSON line, what it did.
const { EventEmitter } = require('node:events');
const path = require('node:path');
require(path.resolve(process.argv[2]));
const electron = require('electron');
const rec = globalThis.__electronStub;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

(async () => {
  for (let i = 0; i < 400 && rec.windows.length === 0 && !rec.errorBox; i++) await sleep(25);
  if (rec.errorBox) throw new Error(`startup failed: ${rec.errorBox.join(': ')}`);
  const win = rec.windows[0];
  const out = {};
  const { preload, ...webPreferences } = win.opts.webPreferences;
  out.webPreferences = webPreferences;
  out.preload = path.basename(preload);
  out.url = win.url;
  out.privileged = rec.privileged;
  out.sandbox = rec.sandbox;
  out.userData = electron.app.getPath('userData');

  const serve = rec.protocolHandlers.handoff;
  const page = await serve({ url: 'handoff://app/index.html', method: 'GET' });
  out.page = { status: page.status, csp: page.headers.get('content-security-policy'), body: await page.text() };
  out.traversal = (await serve({ url: 'handoff://app/%2e%2e/agent/handoff-agent.cjs', method: 'GET' })).status;

  const call = rec.ipcHandlers['handoff:call'];
  const ev = (id, url, parent = null) => ({ sender: { id }, senderFrame: { url, parent } });
  const ours = (raw) => call(ev(win.webContents.id, 'handoff://app/index.html'), raw);
  out.info = await ours({ id: 1, method: 'app.info' });
  out.hosts = await ours({ id: 2, method: 'hosts.list' });
  out.foreign = await call(ev(win.webContents.id, 'https://evil.example/'), { id: 3, method: 'hosts.list' });
  out.subFrame = await call(ev(win.webContents.id, 'handoff://app/index.html', {}), { id: 4, method: 'hosts.list' });
  out.otherWindow = await call(ev(999, 'handoff://app/index.html'), { id: 5, method: 'hosts.list' });
  out.malformed = await ours({ nonsense: true });

  // A host on a closed port: the check fails fast, and its task events reach the window.
  out.added = await ours({ id: 6, method: 'hosts.add', params: { kind: 'ssh', name: 'closed', target: { host: '127.0.0.1', port: 1 } } });
  for (let i = 0; i < 400; i++) {
    const last = win.webContents.sent.filter(([, e]) => e.event === 'task.updated').pop();
    if (last && ['failed', 'succeeded', 'cancelled'].includes(last[1].data.state)) break;
    await sleep(25);
  }
  out.events = win.webContents.sent.map(([ch, e]) => [ch, e.event, e.event === 'task.updated' ? e.data.state : null]);

  const contents = new EventEmitter();
  contents.setWindowOpenHandler = (fn) => {
    contents.openHandler = fn;
  };
  electron.app.emit('web-contents-created', {}, contents);
  let prevented = 0;
  const navEvent = () => ({ preventDefault: () => prevented++ });
  contents.emit('will-navigate', navEvent(), 'https://evil.example/');
  contents.emit('will-navigate', navEvent(), 'file:///etc/passwd');
  contents.emit('will-navigate', navEvent(), 'handoff://app/index.html#/hosts');
  contents.emit('will-attach-webview', navEvent());
  out.navigationsPrevented = prevented;
  out.windowOpen = contents.openHandler({ url: 'https://example.com' });
  let granted = null;
  rec.permissionRequest(null, 'media', (g) => {
    granted = g;
  });
  out.permissionGranted = granted;
  out.permissionCheck = rec.permissionCheck(null, 'clipboard-read');

  electron.app.emit('before-quit', { preventDefault: () => {} });
  for (let i = 0; i < 400 && rec.exitCode === null; i++) await sleep(25);
  out.exitCode = rec.exitCode;
  process.stdout.write(`${JSON.stringify(out)}\n`);
  process.exit(0);
})().catch((err) => {
  process.stderr.write(`${err && err.stack ? err.stack : String(err)}\n`);
  process.exit(1);
});
