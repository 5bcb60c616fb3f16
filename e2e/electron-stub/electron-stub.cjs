// A stand-in for the 'electron' module, so the bundled main and preload can run under plain Node
// here (the Electron binary cannot be downloaded on the build machines). It records what the app
// asks of Electron in globalThis.__electronStub; it implements nothing of Electron itself.
const { EventEmitter } = require('node:events');

const rec = (globalThis.__electronStub = {
  windows: [],
  ipcHandlers: {},
  protocolHandlers: {},
  privileged: null,
  sandbox: false,
  permissionRequest: null,
  permissionCheck: null,
  exitCode: null,
  errorBox: null,
  exposed: {},
  invoked: [],
  ipcListeners: {},
});

let nextId = 1;
class WebContents extends EventEmitter {
  constructor() {
    super();
    this.id = nextId++;
    this.sent = [];
  }
  isDestroyed() {
    return false;
  }
  send(channel, value) {
    this.sent.push([channel, value]);
  }
  setWindowOpenHandler(fn) {
    this.windowOpenHandler = fn;
  }
}

class BrowserWindow extends EventEmitter {
  constructor(opts) {
    super();
    this.opts = opts;
    this.webContents = new WebContents();
    rec.windows.push(this);
  }
  loadURL(url) {
    this.url = url;
    return Promise.resolve();
  }
  show() {}
  isMinimized() {
    return false;
  }
  restore() {}
  focus() {}
}

const paths = { appData: process.env.STUB_APP_DATA };
const app = Object.assign(new EventEmitter(), {
  getPath: (name) => paths[name],
  setPath: (name, p) => {
    paths[name] = p;
  },
  enableSandbox: () => {
    rec.sandbox = true;
  },
  requestSingleInstanceLock: () => true,
  whenReady: () => Promise.resolve(),
  quit: () => {},
  exit: (code) => {
    rec.exitCode = code;
  },
});

module.exports = {
  app,
  BrowserWindow,
  WebContents,
  ipcMain: {
    handle: (channel, fn) => {
      rec.ipcHandlers[channel] = fn;
    },
    removeHandler: (channel) => {
      delete rec.ipcHandlers[channel];
    },
  },
  protocol: {
    registerSchemesAsPrivileged: (schemes) => {
      rec.privileged = schemes;
    },
    handle: (scheme, fn) => {
      rec.protocolHandlers[scheme] = fn;
    },
  },
  session: {
    defaultSession: {
      setPermissionRequestHandler: (fn) => {
        rec.permissionRequest = fn;
      },
      setPermissionCheckHandler: (fn) => {
        rec.permissionCheck = fn;
      },
    },
  },
  shell: {
    openPath: (file) => {
      (rec.opened ??= []).push(file);
      return Promise.resolve('');
    },
    showItemInFolder: (file) => {
      (rec.revealed ??= []).push(file);
    },
  },
  dialog: {
    showErrorBox: (title, message) => {
      rec.errorBox = [title, message];
    },
  },
  contextBridge: {
    exposeInMainWorld: (key, value) => {
      rec.exposed[key] = value;
    },
  },
  ipcRenderer: {
    invoke: (channel, value) => {
      rec.invoked.push([channel, value]);
      return Promise.resolve({ id: value.id, ok: true, result: null });
    },
    on: (channel, fn) => {
      (rec.ipcListeners[channel] ??= []).push(fn);
    },
    removeListener: (channel, fn) => {
      rec.ipcListeners[channel] = (rec.ipcListeners[channel] ?? []).filter((f) => f !== fn);
    },
  },
};
