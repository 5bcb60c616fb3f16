import fs from 'node:fs/promises';
import net from 'node:net';
import { agentLayout, type AgentLayout } from '../../common/agent-layout';
import { UserFacingError } from '../../common/errors';
import { errorFields, type AgentLogger } from '../rpc/agent-logger';
import { MethodRegistry } from '../rpc/method-registry';
import { RpcServerConnection, type ConnectionOptions } from '../rpc/rpc-connection';
import { MAX_UNIX_SOCKET_PATH_BYTES, probeSocket } from './socket-probe';
import { withStartLock } from './start-lock';

/**
 * The per-host, per-user agent daemon: a unix socket (mode 0600, in a 0700 directory) serving
 * JSON-RPC to every attached client, a pid file, and the method registry that domains plug into.
 */

/** What a domain gets to plug into the daemon (see plugins.ts). */
export interface DaemonApi {
  registry: MethodRegistry;
  layout: AgentLayout;
  log: AgentLogger;
  startedAt: Date;
  /** Notification to every client that completed the handshake. */
  broadcast(method: string, params?: unknown): void;
  /** Runs on graceful shutdown (SIGTERM, agent.shutdown), in reverse registration order. */
  onShutdown(fn: () => Promise<void> | void): void;
  /** Number of attached clients that completed the handshake. */
  clientCount(): number;
  /** Starts a graceful shutdown; resolves when it is done. */
  shutdown(reason: string): Promise<void>;
}

export type DaemonPlugin = (api: DaemonApi) => void | Promise<void>;

export interface DaemonOptions {
  home: string;
  version: string;
  log: AgentLogger;
  plugins: DaemonPlugin[];
  connection?: ConnectionOptions;
}

export class AlreadyRunningError extends UserFacingError {
  constructor(socket: string, pid: number | null) {
    super('agent-already-running', `An agent daemon${pid ? ` (pid ${pid})` : ''} is already listening on ${socket}; this one exits. Attach to it with "handoff-agent attach".`);
  }
}

export class AgentDaemon {
  readonly registry = new MethodRegistry();
  readonly layout: AgentLayout;
  readonly startedAt = new Date();
  private readonly server: net.Server;
  private readonly connections = new Set<RpcServerConnection>();
  private readonly shutdownHooks: Array<() => Promise<void> | void> = [];
  private stopping: Promise<void> | null = null;
  private socketIno: number | null = null;
  private readonly log: AgentLogger;
  private resolveDone!: () => void;
  /** Resolves once the daemon has fully stopped. */
  readonly done = new Promise<void>((r) => (this.resolveDone = r));

  private constructor(private readonly opts: DaemonOptions) {
    this.layout = agentLayout(opts.home, opts.version);
    this.log = opts.log;
    // allowHalfOpen: a client that half-closes (attach saw EOF on stdin) still gets the replies in flight.
    this.server = net.createServer({ allowHalfOpen: true }, (sock) => this.accept(sock));
    this.server.on('error', (err) => this.log.error('server error', errorFields(err)));
  }

  static async start(opts: DaemonOptions): Promise<AgentDaemon> {
    const d = new AgentDaemon(opts);
    await d.prepareHome();
    const api = d.api();
    for (const plugin of opts.plugins) await plugin(api);
    await withStartLock(`${d.layout.home}/agent.start.lock`, () => d.listen());
    d.log.info('agent daemon started', { pid: process.pid, version: opts.version, socket: d.layout.socket, node: process.version, methods: d.registry.names() });
    return d;
  }

  api(): DaemonApi {
    return {
      registry: this.registry,
      layout: this.layout,
      log: this.log,
      startedAt: this.startedAt,
      broadcast: (m, p) => this.broadcast(m, p),
      onShutdown: (fn) => this.shutdownHooks.push(fn),
      clientCount: () => this.clientCount,
      shutdown: (reason) => this.shutdown(reason),
    };
  }

  broadcast(method: string, params?: unknown): void {
    for (const c of this.connections) if (c.handshakeDone) c.notify(method, params);
  }

  /** Clients past the handshake: bare connections (a starting daemon probing the socket) do not count. */
  get clientCount(): number {
    let n = 0;
    for (const c of this.connections) if (c.handshakeDone) n++;
    return n;
  }

  shutdown(reason: string): Promise<void> {
    this.stopping ??= this.doShutdown(reason);
    return this.stopping;
  }

  private async doShutdown(reason: string): Promise<void> {
    this.log.info('agent daemon stopping', { reason, clients: this.connections.size });
    this.broadcast('agent.log', { level: 'info', msg: `agent daemon stopping (${reason})` });
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const c of this.connections) c.close();
    const forceTimer = setTimeout(() => {
      for (const c of this.connections) c.destroy();
    }, 1_000);
    for (const hook of [...this.shutdownHooks].reverse()) {
      try {
        await hook();
      } catch (err) {
        this.log.error('shutdown hook failed', errorFields(err));
      }
    }
    await closed;
    clearTimeout(forceTimer);
    await this.removeOwnFiles();
    this.log.info('agent daemon stopped', { reason });
    this.resolveDone();
  }

  private async prepareHome(): Promise<void> {
    await fs.mkdir(this.layout.home, { recursive: true, mode: 0o700 });
    // An existing home created with a looser umask must not expose the socket to other users.
    await fs.chmod(this.layout.home, 0o700);
    if (Buffer.byteLength(this.layout.socket) > MAX_UNIX_SOCKET_PATH_BYTES) {
      throw new UserFacingError(
        'socket-path-too-long',
        `The agent socket path ${this.layout.socket} is longer than the ${MAX_UNIX_SOCKET_PATH_BYTES} bytes a unix socket allows. Set HANDOFF_AGENT_HOME to a shorter directory.`,
      );
    }
  }

  private async listen(): Promise<void> {
    const { socket, pidFile } = this.layout;
    const state = await probeSocket(socket);
    if (state === 'alive') throw new AlreadyRunningError(socket, await readPid(pidFile));
    if (state === 'stale') {
      this.log.warn('removing a stale socket left by a daemon that died', { socket, stalePid: await readPid(pidFile) });
      await fs.rm(socket, { force: true });
    }
    // The pid file goes first (we hold the start lock): a client that completes agent.hello must
    // always find it, and plugins wait on it to know this daemon won the start race.
    const tmp = `${pidFile}.${process.pid}.tmp`;
    await fs.writeFile(tmp, `${process.pid}\n`, { mode: 0o600 });
    await fs.rename(tmp, pidFile);
    // umask so the socket is never, even briefly, connectable by others; chmod makes it explicit.
    const oldMask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        this.server.once('error', onError);
        this.server.listen(socket, () => {
          this.server.off('error', onError);
          resolve();
        });
      });
    } finally {
      process.umask(oldMask);
    }
    await fs.chmod(socket, 0o600);
    this.socketIno = (await fs.stat(socket)).ino;
  }

  private accept(sock: net.Socket): void {
    if (this.stopping) {
      sock.destroy();
      return;
    }
    const conn = new RpcServerConnection(sock, { registry: this.registry, log: this.log, broadcast: (m, p) => this.broadcast(m, p) }, this.opts.connection);
    this.connections.add(conn);
    this.log.debug('client connected', { client: conn.id, clients: this.connections.size });
    conn.onClose(() => {
      this.connections.delete(conn);
      this.log.debug('client disconnected', { client: conn.id, clients: this.connections.size });
    });
  }

  /**
   * Removes the socket and pid file only while they are still ours: a successor daemon may already
   * have bound the same path (Node unlinks the socket when the server closes, before clients are
   * gone), and deleting its socket would orphan it.
   */
  private async removeOwnFiles(): Promise<void> {
    const st = await fs.stat(this.layout.socket).catch(() => null);
    if (st && this.socketIno !== null && st.ino === this.socketIno) await fs.rm(this.layout.socket, { force: true });
    if ((await readPid(this.layout.pidFile)) === process.pid) await fs.rm(this.layout.pidFile, { force: true });
  }
}

async function readPid(pidFile: string): Promise<number | null> {
  try {
    const n = Number((await fs.readFile(pidFile, 'utf8')).trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}
