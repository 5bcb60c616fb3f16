// Loads the bundled preload against the stub and reports what it exposes and sends.
const path = require('node:path');
require(path.resolve(process.argv[2]));
const rec = globalThis.__electronStub;

(async () => {
  const bridge = rec.exposed.handoff;
  const out = { exposedKeys: Object.keys(rec.exposed), bridgeKeys: Object.keys(bridge).sort() };
  out.reply = await bridge.call('app.info', undefined);
  await bridge.call('hosts.remove', { name: 'x' });
  out.invoked = rec.invoked;
  const seen = [];
  const off = bridge.onEvent((e) => seen.push(e));
  for (const fn of rec.ipcListeners['handoff:event'] ?? []) fn({}, { event: 'hosts.changed', data: [] });
  off();
  out.listenersAfterOff = (rec.ipcListeners['handoff:event'] ?? []).length;
  out.seen = seen;
  out.channels = Object.keys(rec.ipcListeners);
  process.stdout.write(`${JSON.stringify(out)}\n`);
})().catch((err) => {
  process.stderr.write(`${err && err.stack ? err.stack : String(err)}\n`);
  process.exit(1);
});
