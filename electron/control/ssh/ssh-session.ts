import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Duplex, Readable, Writable } from 'node:stream';
// ssh2 is CommonJS without static export names: Node's ESM loader (tsx, the CLI) only offers
// the default export, so named value imports would fail outside bundlers and vitest.
import ssh2 from 'ssh2';
import type {
  AnyAuthMethod,
  AuthenticationType,
  Client,
  ClientChannel,
  ParsedKey,
  ServerHostKeyAlgorithm,
  SFTPWrapper,
} from 'ssh2';
import { UserFacingError } from '../../../common/errors';
import { formatSshTarget, type SshTarget } from '../../../common/host';
import { shellQuote } from '../../../common/shell-quote';
import { addKnownHost, checkHostKey, fingerprintSha256, keyTypeOfBlob, knownKeyTypes } from './known-hosts';
import { Semaphore } from './semaphore';
import { resolveSshConfig } from './ssh-config';

const { Client: SshClient, utils } = ssh2;
import {
  authFailedError,
  connectionLostError,
  forwardThroughJumpError,
  hostKeyChangedError,
  hostKeyUnknownError,
  hostPort,
  identityInvalidError,
  jumpFailedError,
  passphraseRequiredError,
  passphraseWrongError,
  socketError,
  timeoutError,
} from './ssh-errors';

export type SshStep = 'tcp' | 'host-key' | 'auth';
export type SshStepState = 'running' | 'done' | 'failed';

export interface UnknownHostKey {
  host: string;
  port: number;
  keyType: string;
  fingerprint: string;
  /** 'host' or 'jump host'. */
  role: string;
  /** Key types already trusted for this host (a different type being offered deserves a warning). */
  otherTypesKnown: string[];
}

export interface SshConnectOptions {
  target: SshTarget;
  /** Private key file; without it: ~/.ssh/config IdentityFile, else ssh-agent, else ~/.ssh/id_{ed25519,ecdsa,rsa}. */
  identityFile?: string;
  /** One jump host; without it, ~/.ssh/config ProxyJump (all hops) is used. */
  jump?: SshTarget;
  /** Handoff's own known_hosts (`$HANDOFF_HOME/known_hosts`): trusted keys are appended here. */
  knownHostsFile: string;
  /** Defaults to ~/.ssh/known_hosts (read only). */
  userKnownHostsFile?: string;
  /** Defaults to ~/.ssh/config. */
  sshConfigFile?: string;
  /** Asked when a host key is in no known_hosts file; true trusts and saves it. */
  onUnknownHostKey: (k: UnknownHostKey) => Promise<boolean>;
  /** Asked for an encrypted key; null means "none available" (passphrase-required). `attempt` counts from 1. */
  onPassphrase?: (keyFile: string, info?: { attempt: number }) => Promise<string | null>;
  /** Per hop, not counting time spent waiting in onUnknownHostKey / onPassphrase. Default 20 s. */
  readyTimeoutMs?: number;
  onStep?: (step: SshStep, state: SshStepState, detail?: string) => void;
  /** ssh-agent socket; default $SSH_AUTH_SOCK; null disables the agent. */
  agentSocket?: string | null;
  /** Home for ~ expansion, default keys and default files; default os.homedir(). */
  homeDir?: string;
  /** Key for the jump host(s); default: identityFile, then the jump's config/agent/default keys. */
  jumpIdentityFile?: string;
  /** Handoff's name for the host, used in messages ("handoff hosts remove NAME"). */
  displayName?: string;
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** Concurrent session channels (exec, spawn, sftp); OpenSSH's MaxSessions is 10. Default 8. */
  maxChannels?: number;
  signal?: AbortSignal;
}

export interface ExecOptions {
  stdin?: string | Buffer;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Set through `env K=V …` (sshd ignores env requests unless AcceptEnv allows them). */
  env?: Record<string, string>;
}

export interface ExecResult {
  /** Exit status; null when the command died of a signal. */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export interface SshProcessExit {
  code: number | null;
  signal: string | null;
  /** The channel ended because the SSH connection dropped, not because the command exited. */
  connectionLost: boolean;
}

/**
 * A remote process on its own channel. Read stdout and stderr to the end (as with Node's child
 * 'close'): `exit` settles when the channel has closed, or at once when the connection drops.
 */
export interface SshProcess {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  exit: Promise<SshProcessExit>;
  /** Ends stdin and closes the channel. Without a pty the remote process only sees stdin EOF. */
  close(): void;
  signal(name: string): void;
}

export interface LocalForward {
  localPort: number;
  close(): Promise<void>;
}

export interface SshCloseInfo {
  /** close() was called (not a drop). */
  expected: boolean;
  error?: UserFacingError;
}

interface Hop {
  role: 'host' | 'jump host';
  label: string;
  host: string;
  port: number;
  user: string;
  /** Keys to use only (explicit or from config); empty: agent then default keys. */
  identities: string[];
  /** Also try agent and default keys after `identities` (jump hosts borrowing the target's key). */
  fallback: boolean;
}

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];
/** ssh2's default server host key list; known types for a host are moved to the front. */
const HOST_KEY_ALGOS: ServerHostKeyAlgorithm[] = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
const ALGOS_FOR_KEY_TYPE: Record<string, ServerHostKeyAlgorithm[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/**
 * Prefer the key types already trusted for this host, as OpenSSH does, so a server that offers
 * several keys presents the known one instead of triggering a "new key" prompt.
 */
export function hostKeyAlgorithms(knownTypes: string[]): ServerHostKeyAlgorithm[] {
  const first = knownTypes.flatMap((t) => ALGOS_FOR_KEY_TYPE[t] ?? []);
  return [...new Set([...first, ...HOST_KEY_ALGOS])];
}

/** A timeout that stops counting while a person is being asked something; 0 ms means none. */
class PausableTimer {
  private timer: NodeJS.Timeout | null = null;
  private deadline = 0;
  private remaining: number;
  private pauses = 0;
  private done: boolean;
  constructor(ms: number, private readonly onFire: () => void) {
    this.remaining = ms;
    this.done = ms <= 0;
    this.arm();
  }
  private arm() {
    if (this.done) return;
    this.deadline = Date.now() + this.remaining;
    this.timer = setTimeout(() => {
      this.done = true;
      this.onFire();
    }, this.remaining);
  }
  async whilePaused<T>(fn: () => Promise<T>): Promise<T> {
    if (this.pauses++ === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
      this.remaining = Math.max(0, this.deadline - Date.now());
    }
    try {
      return await fn();
    } finally {
      if (--this.pauses === 0 && !this.timer) this.arm();
    }
  }
  clear() {
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

function targetLabel(t: { user: string; host: string; port: number }): string {
  return `${t.user}@${hostPort(t.host, t.port)}`;
}

function expandHome(p: string, homeDir: string): string {
  if (p === '~') return homeDir;
  if (p.startsWith('~/')) return path.join(homeDir, p.slice(2));
  return path.resolve(p);
}

/** Loads and decrypts private keys, asking for passphrases; one load per file per connect. */
class KeyLoader {
  private cache = new Map<string, Promise<ParsedKey | null>>();
  constructor(private readonly onPassphrase: SshConnectOptions['onPassphrase']) {}

  /** `required`: a missing/bad/encrypted-without-passphrase file is an error instead of a skip. */
  load(file: string, required: boolean, pause: <T>(fn: () => Promise<T>) => Promise<T>): Promise<ParsedKey | null> {
    const key = `${file}\0${required}`;
    let p = this.cache.get(key);
    if (!p) {
      p = this.doLoad(file, required, pause);
      this.cache.set(key, p);
    }
    return p;
  }

  private async doLoad(file: string, required: boolean, pause: <T>(fn: () => Promise<T>) => Promise<T>): Promise<ParsedKey | null> {
    let data: Buffer;
    try {
      data = await fs.readFile(file);
    } catch (err) {
      if (!required) return null;
      const code = (err as NodeJS.ErrnoException).code;
      throw identityInvalidError(file, code === 'ENOENT' ? 'the file does not exist' : code === 'EACCES' ? 'permission denied' : (err as Error).message);
    }
    const first = utils.parseKey(data);
    if (!(first instanceof Error)) return this.checkPrivate(first, file, required);
    if (!/no passphrase given/i.test(first.message)) {
      if (!required) return null;
      throw identityInvalidError(file, `it is not a private key ssh2 can read (${first.message})`);
    }
    if (!this.onPassphrase) {
      if (!required) return null;
      throw passphraseRequiredError(file);
    }
    for (let attempt = 1; attempt <= 3; attempt++) {
      const pass = await pause(() => this.onPassphrase!(file, { attempt }));
      if (pass === null) {
        if (!required) return null;
        throw passphraseRequiredError(file);
      }
      const parsed = utils.parseKey(data, pass);
      if (!(parsed instanceof Error)) return this.checkPrivate(parsed, file, required);
      if (!/passphrase|integrity|decrypt/i.test(parsed.message)) throw identityInvalidError(file, parsed.message);
    }
    throw passphraseWrongError(file);
  }

  private checkPrivate(parsed: ParsedKey | ParsedKey[], file: string, required: boolean): ParsedKey | null {
    const k = Array.isArray(parsed) ? parsed[0] : parsed;
    if (!k || !k.isPrivateKey()) {
      if (!required) return null;
      throw identityInvalidError(file, 'it holds a public key only');
    }
    return k;
  }
}

interface ConnectContext {
  opts: SshConnectOptions;
  homeDir: string;
  knownFiles: string[];
  keys: KeyLoader;
  agentSocket: string | null;
}

type AuthCandidate = { kind: 'key'; file: string; required: boolean } | { kind: 'agent'; socket: string };

function authCandidates(hop: Hop, ctx: ConnectContext): AuthCandidate[] {
  const out: AuthCandidate[] = hop.identities.map((file) => ({ kind: 'key' as const, file, required: true }));
  if (hop.identities.length === 0 || hop.fallback) {
    if (ctx.agentSocket) out.push({ kind: 'agent', socket: ctx.agentSocket });
    for (const name of DEFAULT_KEYS) out.push({ kind: 'key', file: path.join(ctx.homeDir, '.ssh', name), required: false });
  }
  return out;
}

function cancelledError(what: string): UserFacingError {
  return new UserFacingError('cancelled', `Connecting to ${what} was cancelled.`);
}

function connectHop(hop: Hop, sock: Duplex | undefined, ctx: ConnectContext): Promise<Client> {
  const { opts } = ctx;
  const readyMs = opts.readyTimeoutMs ?? 20_000;
  return new Promise<Client>((resolve, reject) => {
    const client = new SshClient();
    let settled = false;
    let phase: SshStep = 'tcp';
    let failure: UserFacingError | null = null;
    const tried: string[] = [];
    const detail = hop.role === 'host' ? hop.label : `jump host ${hop.label}`;
    const step = (s: SshStep, st: SshStepState, extra?: string) => opts.onStep?.(s, st, extra ?? detail);
    const advance = (to: SshStep) => {
      if (phase === to) return;
      step(phase, 'done');
      phase = to;
      step(phase, 'running');
    };

    const fail = (err: UserFacingError) => {
      if (settled) return;
      settled = true;
      timer.clear();
      opts.signal?.removeEventListener('abort', onAbort);
      step(phase, 'failed', err.message);
      client.removeAllListeners('ready');
      client.on('error', () => undefined);
      client.destroy();
      reject(err);
    };
    const timer = new PausableTimer(readyMs, () =>
      fail(timeoutError(hop.host, hop.port, Math.round(readyMs / 1000), phase === 'tcp' ? 'opening the TCP connection' : phase === 'host-key' ? 'SSH handshake' : 'logging in')),
    );
    const onAbort = () => fail(cancelledError(detail));
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const verify = async (key: Buffer): Promise<boolean> => {
      if (phase === 'tcp') advance('host-key');
      const keyType = keyTypeOfBlob(key);
      const fingerprint = fingerprintSha256(key);
      const check = await checkHostKey({ host: hop.host, port: hop.port, key, files: ctx.knownFiles });
      if (check.status === 'match') return true;
      if (check.status === 'changed' || check.status === 'revoked') {
        failure = hostKeyChangedError({
          host: hop.host,
          port: hop.port,
          keyType,
          fingerprint,
          role: hop.role,
          ...(opts.displayName ? { displayName: opts.displayName } : {}),
          known: check.status === 'revoked' ? [{ file: check.file!, line: check.line!, fingerprint }] : check.knownKeys,
          inHandoffFile: check.file === opts.knownHostsFile,
          revoked: check.status === 'revoked',
        });
        return false;
      }
      const prompt: UnknownHostKey = { host: hop.host, port: hop.port, keyType, fingerprint, role: hop.role, otherTypesKnown: check.knownTypes };
      const trusted = await timer.whilePaused(() => opts.onUnknownHostKey(prompt).catch(() => false));
      if (settled) return false;
      if (!trusted) {
        failure = hostKeyUnknownError(prompt);
        return false;
      }
      await addKnownHost(opts.knownHostsFile, hop.host, hop.port, key);
      return true;
    };

    const candidates = authCandidates(hop, ctx);
    const authHandler = (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, next: (m: AnyAuthMethod | false) => void) => {
      void (async () => {
        if (phase !== 'auth') advance('auth');
        while (candidates.length > 0) {
          if (methodsLeft && !methodsLeft.includes('publickey')) break;
          const c = candidates.shift()!;
          if (c.kind === 'agent') {
            tried.push(`ssh-agent at ${c.socket}`);
            return next({ type: 'agent', username: hop.user, agent: c.socket });
          }
          const key = await ctx.keys.load(c.file, c.required, (fn) => timer.whilePaused(fn));
          if (!key) continue;
          tried.push(`key ${c.file}`);
          return next({ type: 'publickey', username: hop.user, key });
        }
        next(false);
      })().catch((err: unknown) => {
        failure = err instanceof UserFacingError ? err : new UserFacingError('auth-failed', String(err));
        next(false);
      });
    };

    client.on('ready', () => {
      if (settled) return;
      settled = true;
      timer.clear();
      opts.signal?.removeEventListener('abort', onAbort);
      step('auth', 'done');
      resolve(client);
    });
    client.on('error', (err: Error & { level?: string; code?: string }) => {
      if (settled) return;
      if (failure) return fail(failure);
      if (err.level === 'client-authentication') {
        return fail(authFailedError({ user: hop.user, host: hop.host, port: hop.port, role: hop.role, tried }));
      }
      const sockErr = err.level === 'client-socket' || err.level === 'client-dns' ? socketError(err, hop.host, hop.port) : null;
      fail(
        sockErr ??
          new UserFacingError(
            'ssh-failed',
            `The SSH connection to ${detail} failed during ${phase === 'tcp' ? 'connect' : phase === 'host-key' ? 'the handshake' : 'login'}: ${err.message}. Check that an SSH server listens on ${hostPort(hop.host, hop.port)}.`,
            { host: hop.host, port: hop.port, phase },
          ),
      );
    });
    client.on('close', () => {
      if (settled) return;
      fail(failure ?? new UserFacingError('ssh-failed', `The server ${detail} closed the connection during ${phase === 'auth' ? 'login' : 'the handshake'}. Check its sshd logs (AllowUsers, MaxStartups, LoginGraceTime).`, { host: hop.host, port: hop.port, phase }));
    });
    client.on('connect', () => {
      if (phase === 'tcp') advance('host-key');
    });

    step('tcp', 'running');
    void knownKeyTypes(hop.host, hop.port, ctx.knownFiles)
      .catch(() => [] as string[])
      .then((types) => {
        if (settled) return;
        try {
          client.connect({
            ...(sock ? { sock } : { host: hop.host, port: hop.port }),
            username: hop.user,
            hostVerifier: (key: Buffer, cb: (ok: boolean) => void) => {
              verify(key).then(cb, (err: unknown) => {
                failure = new UserFacingError('ssh-failed', `Checking the host key of ${detail} failed: ${(err as Error).message}. Check that ${opts.knownHostsFile} is readable and writable.`);
                cb(false);
              });
            },
            authHandler: authHandler as unknown as (a: AuthenticationType[], p: boolean, n: (m: AnyAuthMethod) => void) => void,
            algorithms: { serverHostKey: hostKeyAlgorithms(types) },
            // Our own PausableTimer replaces ssh2's readyTimeout, which would also count prompt time.
            readyTimeout: 0,
            keepaliveInterval: opts.keepaliveIntervalMs ?? 10_000,
            keepaliveCountMax: opts.keepaliveCountMax ?? 3,
          });
          // Without Nagle off, SFTP and forwards run 10-50x slower (reference/build-machine.md).
          client.setNoDelay(true);
        } catch (err) {
          fail(new UserFacingError('ssh-failed', `Cannot start the SSH connection to ${detail}: ${(err as Error).message}`));
        }
      });
  });
}

function forwardOutStream(client: Client, host: string, port: number): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    client.forwardOut('127.0.0.1', 0, host, port, (err, ch) => (err ? reject(err) : resolve(ch)));
  });
}

function sftpPath(remote: string): string {
  // SFTP paths are relative to the login directory; `~` is a shell feature SFTP does not know.
  if (remote === '~') return '.';
  if (remote.startsWith('~/')) return remote.slice(2) || '.';
  return remote;
}

function sftpCall<T = void>(fn: (cb: (err: Error | null | undefined, v?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v as T))));
}

/**
 * One authenticated SSH connection (possibly through jump hosts) to a host, with the operations
 * the controller needs. Emits 'close' once, with `expected: false` when the connection dropped.
 */
export class SshSession extends EventEmitter<{ close: [SshCloseInfo] }> {
  private readonly channels: Semaphore;
  private sftpPromise: Promise<SFTPWrapper> | null = null;
  private closeInfo: SshCloseInfo | null = null;
  private lastError: UserFacingError | null = null;
  private closing = false;
  private readonly forwards = new Set<LocalForward>();

  private constructor(
    private readonly clients: Client[],
    /** The resolved target. */
    readonly host: string,
    readonly port: number,
    readonly user: string,
    opts: SshConnectOptions,
  ) {
    super();
    this.channels = new Semaphore(opts.maxChannels ?? 8);
    clients.forEach((c, i) => {
      c.on('error', (err: Error & { level?: string }) => {
        this.lastError = new UserFacingError(
          'connection-lost',
          `The SSH connection to ${hostPort(host, port)} dropped${i < clients.length - 1 ? ' (at the jump host)' : ''}: ${err.message}. Handoff reconnects automatically.`,
          { host, port },
        );
      });
      c.on('close', () => this.finish());
    });
  }

  static async connect(opts: SshConnectOptions): Promise<SshSession> {
    const homeDir = opts.homeDir ?? os.homedir();
    const localUser = os.userInfo().username;
    const configFile = opts.sshConfigFile;
    const resolveHop = async (t: SshTarget, role: Hop['role'], explicitKey: string | undefined, fallback: boolean): Promise<Hop> => {
      const cfg = await resolveSshConfig(t.host, { ...(configFile ? { configFile } : {}), ...(t.user ? { user: t.user } : {}), homeDir });
      const hop = { host: cfg.host, port: t.port ?? cfg.port ?? 22, user: t.user ?? cfg.user ?? localUser };
      const identities = explicitKey ? [expandHome(explicitKey, homeDir), ...cfg.identityFiles] : cfg.identityFiles;
      // Config IdentityFiles that do not exist are skipped silently, as OpenSSH does.
      const existing: string[] = [];
      for (const f of identities) {
        if (f === identities[0] && explicitKey) existing.push(f);
        else if (await fs.access(f).then(() => true, () => false)) existing.push(f);
      }
      return { role, label: targetLabel(hop), ...hop, identities: [...new Set(existing)], fallback: fallback || existing.length === 0 };
    };

    const target = await resolveHop(opts.target, 'host', opts.identityFile, false);
    const targetCfg = await resolveSshConfig(opts.target.host, { ...(configFile ? { configFile } : {}), homeDir });
    const jumpTargets = opts.jump ? [opts.jump] : targetCfg.proxyJump;
    const jumpKey = opts.jumpIdentityFile ?? opts.identityFile;
    const hops: Hop[] = [];
    for (const j of jumpTargets) hops.push(await resolveHop(j, 'jump host', jumpKey, !opts.jumpIdentityFile));
    const ctx: ConnectContext = {
      opts,
      homeDir,
      knownFiles: [opts.userKnownHostsFile ?? path.join(homeDir, '.ssh', 'known_hosts'), opts.knownHostsFile],
      keys: new KeyLoader(opts.onPassphrase),
      agentSocket: opts.agentSocket === undefined ? process.env.SSH_AUTH_SOCK || null : opts.agentSocket,
    };

    // Explicit keys are read (and their passphrases asked for) before any network traffic, so a
    // missing file or passphrase fails fast with its own message.
    const noPause = <T>(fn: () => Promise<T>) => fn();
    if (target.identities[0] && opts.identityFile) await ctx.keys.load(target.identities[0], true, noPause);

    const chain = [...hops, target];
    const clients: Client[] = [];
    try {
      let sock: Duplex | undefined;
      for (const [i, hop] of chain.entries()) {
        const prev = clients[i - 1];
        const jumpLabel = hops[i - 1]?.label;
        if (prev && jumpLabel) {
          opts.onStep?.('tcp', 'running', `${hop.label} via jump host ${jumpLabel}`);
          try {
            sock = await forwardOutStream(prev, hop.host, hop.port);
          } catch (err) {
            const e = forwardThroughJumpError(jumpLabel, hop.host, hop.port, (err as Error).message);
            opts.onStep?.('tcp', 'failed', e.message);
            throw e;
          }
        }
        try {
          clients.push(await connectHop(hop, sock, ctx));
        } catch (err) {
          const e = err as UserFacingError;
          // Host-key problems keep their code so the UI can offer trust for the jump host too.
          if (hop.role === 'jump host' && !e.code.startsWith('host-key-') && e.code !== 'cancelled' && e.code !== 'passphrase-required') {
            throw jumpFailedError(hop.label, e);
          }
          throw e;
        }
      }
    } catch (err) {
      for (const c of clients.reverse()) c.destroy();
      throw err;
    }
    return new SshSession(clients, target.host, target.port, target.user, opts);
  }

  private get client(): Client {
    return this.clients[this.clients.length - 1]!;
  }

  get isOpen(): boolean {
    return this.closeInfo === null && !this.closing;
  }

  /** Calls `cb` once when the connection closes (immediately if it already has). Returns an unsubscribe. */
  onClose(cb: (info: SshCloseInfo) => void): () => void {
    if (this.closeInfo) {
      const info = this.closeInfo;
      queueMicrotask(() => cb(info));
      return () => undefined;
    }
    this.once('close', cb);
    return () => this.off('close', cb);
  }

  private finish(): void {
    if (this.closeInfo) return;
    const info: SshCloseInfo = this.closing
      ? { expected: true }
      : { expected: false, error: this.lastError ?? connectionLostError(this.host, this.port, 'unexpectedly') };
    this.closeInfo = info;
    for (const c of this.clients) c.destroy();
    this.channels.rejectAll(info.error ?? new UserFacingError('connection-lost', `The SSH connection to ${hostPort(this.host, this.port)} was closed.`));
    this.sftpPromise = null;
    for (const f of [...this.forwards]) void f.close();
    this.emit('close', info);
  }

  private assertOpen(what: string): void {
    if (!this.isOpen) throw this.closeInfo?.error ?? connectionLostError(this.host, this.port, `before ${what}`);
  }

  private openExec(cmd: string): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      this.client.exec(cmd, (err, ch) => (err ? reject(err) : resolve(ch)));
    });
  }

  private async openChannel(argv: readonly string[], env: Record<string, string> | undefined, signal: AbortSignal | undefined) {
    this.assertOpen(`running ${argv[0] ?? ''}`);
    const full = env && Object.keys(env).length ? ['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv] : [...argv];
    const cmd = shellQuote(full);
    const release = await this.channels.acquire(signal);
    try {
      this.assertOpen(`running ${argv[0] ?? ''}`);
      const ch = await this.openExec(cmd);
      ch.once('close', release);
      return ch;
    } catch (err) {
      release();
      if (err instanceof UserFacingError) throw err;
      if (!this.isOpen) throw this.closeInfo?.error ?? connectionLostError(this.host, this.port, `while starting ${argv[0]}`);
      throw new UserFacingError('ssh-failed', `Could not start "${argv[0]}" on ${hostPort(this.host, this.port)}: ${(err as Error).message}. The server may limit sessions (MaxSessions).`);
    }
  }

  /** Runs a command (argv, quoted with shellQuote) to completion and collects its output. */
  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const ch = await this.openChannel(argv, opts.env, opts.signal);
    return new Promise<ExecResult>((resolve, reject) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let done = false;
      let exited = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (fn: () => void) => {
        if (done) return;
        done = true;
        if (timer) clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const kill = () => {
        try {
          ch.signal('KILL');
        } catch {
          // older servers refuse signals; closing still frees the channel
        }
        ch.close();
      };
      const onAbort = () => finish(() => {
        kill();
        reject(opts.signal?.reason ?? new UserFacingError('cancelled', `"${argv[0]}" was cancelled.`));
      });
      ch.on('data', (b: Buffer) => out.push(b));
      ch.stderr.on('data', (b: Buffer) => err.push(b));
      ch.on('error', () => undefined);
      ch.on('exit', () => {
        exited = true;
      });
      ch.on('close', (code?: number | null, signal?: string) =>
        finish(() => {
          if (!exited && !this.isOpen) {
            reject(this.closeInfo?.error ?? connectionLostError(this.host, this.port, `while "${argv[0]}" was running`));
            return;
          }
          resolve({
            code: typeof code === 'number' ? code : null,
            signal: signal ?? null,
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(err).toString('utf8'),
          });
        }),
      );
      if (opts.timeoutMs !== undefined) {
        timer = setTimeout(
          () =>
            finish(() => {
              kill();
              reject(new UserFacingError('exec-timeout', `"${argv.join(' ').slice(0, 120)}" on ${hostPort(this.host, this.port)} did not finish within ${opts.timeoutMs} ms and was stopped. The host may be overloaded, or the command is waiting for input.`));
            }),
          opts.timeoutMs,
        );
      }
      if (opts.signal) {
        if (opts.signal.aborted) return onAbort();
        opts.signal.addEventListener('abort', onAbort, { once: true });
      }
      if (opts.stdin !== undefined) ch.end(opts.stdin);
      else ch.end();
    });
  }

  /** Starts a long-lived command (e.g. `handoff-agent attach`) and hands over its streams. */
  async spawn(argv: readonly string[], opts: { env?: Record<string, string>; signal?: AbortSignal } = {}): Promise<SshProcess> {
    const ch = await this.openChannel(argv, opts.env, opts.signal);
    let exited = false;
    ch.on('exit', () => {
      exited = true;
    });
    ch.on('error', () => undefined);
    const exit = new Promise<SshProcessExit>((resolve) => {
      // ssh2 emits a channel's 'close' only after its stdout was read to the end, so a drop must
      // also end the process for consumers that stopped reading.
      const off = this.onClose(() => {
        if (!exited) resolve({ code: null, signal: null, connectionLost: true });
      });
      ch.once('close', (code?: number | null, signal?: string) => {
        off();
        resolve({ code: typeof code === 'number' ? code : null, signal: signal ?? null, connectionLost: !exited && !this.isOpen });
      });
    });
    return {
      stdin: ch,
      stdout: ch,
      stderr: ch.stderr,
      exit,
      close: () => {
        ch.end();
        ch.close();
      },
      signal: (name: string) => {
        try {
          ch.signal(name.replace(/^SIG/, ''));
        } catch {
          // best effort: the server may not support signals
        }
      },
    };
  }

  /** The one SFTP session of this connection (it holds a channel until the connection ends). */
  private sftp(): Promise<SFTPWrapper> {
    this.assertOpen('file transfer');
    if (!this.sftpPromise) {
      const p = (async () => {
        const release = await this.channels.acquire();
        try {
          const s = await sftpCall<SFTPWrapper>((cb) => this.client.sftp((e, w) => cb(e, w)));
          s.once('close', () => {
            release();
            if (this.sftpPromise === p) this.sftpPromise = null;
          });
          return s;
        } catch (err) {
          release();
          throw err;
        }
      })();
      this.sftpPromise = p;
      p.catch(() => {
        if (this.sftpPromise === p) this.sftpPromise = null;
      });
    }
    return this.sftpPromise;
  }

  /** `mkdir -p` over SFTP; `~/` is the login directory. */
  async mkdirp(remoteDir: string): Promise<void> {
    const s = await this.sftp();
    const p = sftpPath(remoteDir);
    const parts = p.split('/').filter(Boolean);
    let cur = p.startsWith('/') ? '' : '.';
    for (const part of parts) {
      cur = `${cur}/${part}`;
      const st = await sftpCall((cb) => s.stat(cur, (e) => cb(e))).then(() => true, () => false);
      if (st) continue;
      try {
        await sftpCall((cb) => s.mkdir(cur, cb));
      } catch (err) {
        // Another writer may have created it meanwhile.
        const again = await sftpCall((cb) => s.stat(cur, (e) => cb(e))).then(() => true, () => false);
        if (!again) throw new UserFacingError('upload-failed', `Cannot create ${cur} on ${hostPort(this.host, this.port)}: ${(err as Error).message}. Check permissions and free space there.`);
      }
    }
  }

  /**
   * Uploads a file under a temporary name and renames it into place (atomic on POSIX servers),
   * so a reader never sees half a file.
   */
  async upload(localPath: string, remotePath: string, onProgress?: (sentBytes: number, totalBytes: number) => void, opts: { mode?: number } = {}): Promise<void> {
    const s = await this.sftp();
    const dest = sftpPath(remotePath);
    const tmp = `${dest}.part-${randomBytes(4).toString('hex')}`;
    try {
      await sftpCall((cb) =>
        s.fastPut(localPath, tmp, { concurrency: 64, chunkSize: 32768, ...(opts.mode !== undefined ? { mode: opts.mode } : {}), step: (sent, _chunk, total) => onProgress?.(sent, total) }, cb),
      );
      await this.renameOver(s, tmp, dest);
    } catch (err) {
      await sftpCall((cb) => s.unlink(tmp, cb)).catch(() => undefined);
      if (!this.isOpen) throw this.closeInfo?.error ?? connectionLostError(this.host, this.port, 'during an upload');
      throw new UserFacingError('upload-failed', `Uploading ${localPath} to ${hostPort(this.host, this.port)}:${remotePath} failed: ${(err as Error).message}. Check free disk space and that the directory exists and is writable.`);
    }
  }

  /** Writes a small file atomically (temp + rename). */
  async writeFile(remotePath: string, data: string | Buffer, opts: { mode?: number } = {}): Promise<void> {
    const s = await this.sftp();
    const dest = sftpPath(remotePath);
    const tmp = `${dest}.part-${randomBytes(4).toString('hex')}`;
    try {
      await sftpCall((cb) => s.writeFile(tmp, data, { ...(opts.mode !== undefined ? { mode: opts.mode } : {}) }, cb));
      await this.renameOver(s, tmp, dest);
    } catch (err) {
      await sftpCall((cb) => s.unlink(tmp, cb)).catch(() => undefined);
      throw new UserFacingError('upload-failed', `Writing ${hostPort(this.host, this.port)}:${remotePath} failed: ${(err as Error).message}.`);
    }
  }

  /** Reads a remote file; null when it does not exist. */
  async readFile(remotePath: string): Promise<Buffer | null> {
    const s = await this.sftp();
    try {
      return await sftpCall<Buffer>((cb) => s.readFile(sftpPath(remotePath), (e: Error | undefined, b: Buffer) => cb(e, b)));
    } catch (err) {
      if ((err as { code?: number }).code === 2) return null; // SSH_FX_NO_SUCH_FILE
      throw new UserFacingError('ssh-failed', `Reading ${hostPort(this.host, this.port)}:${remotePath} failed: ${(err as Error).message}.`);
    }
  }

  private async renameOver(s: SFTPWrapper, from: string, to: string): Promise<void> {
    try {
      // posix-rename@openssh.com replaces the target atomically; plain SFTP rename refuses to.
      await sftpCall((cb) => s.ext_openssh_rename(from, to, cb));
    } catch {
      await sftpCall((cb) => s.unlink(to, cb)).catch(() => undefined);
      await sftpCall((cb) => s.rename(from, to, cb));
    }
  }

  /** A raw TCP stream to remoteHost:remotePort opened by the server (direct-tcpip). */
  async forwardOut(remoteHost: string, remotePort: number): Promise<ClientChannel> {
    this.assertOpen('opening a tunnel');
    return forwardOutStream(this.client, remoteHost, remotePort);
  }

  /** A stream to a unix socket on the host (direct-streamlocal@openssh.com). */
  async openUnixStream(socketPath: string): Promise<ClientChannel> {
    this.assertOpen('opening a tunnel');
    return new Promise((resolve, reject) => this.client.openssh_forwardOutStreamLocal(socketPath, (err, ch) => (err ? reject(err) : resolve(ch))));
  }

  /** Listens on 127.0.0.1 and carries each connection to remoteHost:remotePort as seen from the host. */
  async forwardLocal(o: { remoteHost: string; remotePort: number; localPort?: number }): Promise<LocalForward> {
    this.assertOpen('opening a tunnel');
    const sockets = new Set<net.Socket>();
    const server = net.createServer((sock) => {
      sock.setNoDelay(true);
      sockets.add(sock);
      sock.on('error', () => undefined);
      sock.once('close', () => sockets.delete(sock));
      if (!this.isOpen) return void sock.destroy();
      // New sockets stay paused until piped, so nothing is lost while the channel opens.
      this.client.forwardOut(sock.remoteAddress ?? '127.0.0.1', sock.remotePort ?? 0, o.remoteHost, o.remotePort, (err, ch) => {
        if (err || sock.destroyed) {
          ch?.close();
          sock.destroy();
          return;
        }
        ch.on('error', () => sock.destroy());
        ch.once('close', () => sock.destroy());
        sock.once('close', () => ch.close());
        sock.pipe(ch).pipe(sock);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new UserFacingError('forward-failed', `Cannot listen on 127.0.0.1:${o.localPort ?? 0} for a tunnel to ${o.remoteHost}:${o.remotePort}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}. Choose another local port.`)),
      );
      server.listen(o.localPort ?? 0, '127.0.0.1', () => resolve());
    });
    let closed: Promise<void> | null = null;
    const fwd: LocalForward = {
      localPort: (server.address() as net.AddressInfo).port,
      close: () => {
        if (!closed) {
          this.forwards.delete(fwd);
          closed = new Promise<void>((resolve) => {
            server.close(() => resolve());
            for (const s of sockets) s.destroy();
          });
        }
        return closed;
      },
    };
    this.forwards.add(fwd);
    return fwd;
  }

  /** Closes the connection (and its jump hosts); resolves once it is closed. Idempotent. */
  close(): Promise<void> {
    if (this.closeInfo) return Promise.resolve();
    this.closing = true;
    return new Promise<void>((resolve) => {
      this.once('close', () => resolve());
      const force = setTimeout(() => this.finish(), 2000);
      force.unref();
      this.once('close', () => clearTimeout(force));
      for (const c of [...this.clients].reverse()) c.end();
    });
  }

  /** Describes where this session goes, for logs. */
  describe(): string {
    return formatSshTarget({ user: this.user, host: this.host, port: this.port });
  }
}
