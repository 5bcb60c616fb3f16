import { EventEmitter } from 'node:events';
import { UserFacingError } from '../../../common/errors';
import { isRetryableSshError } from './ssh-errors';
import { SshSession, type SshConnectOptions } from './ssh-session';

export type ReconnectState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'closed';

export interface ReconnectStateInfo {
  /** Reconnect attempt number (1-based) for 'reconnecting'. */
  attempt?: number;
  /** Wait before the next attempt, for 'reconnecting'. */
  delayMs?: number;
  /** What dropped the connection or made the last attempt fail. */
  error?: UserFacingError;
}

export interface BackoffOptions {
  initialDelayMs?: number;
  maxDelayMs?: number;
  factor?: number;
  /** ± fraction of each delay, so many clients do not retry in lockstep. */
  jitter?: number;
  /** Give up after this many failed reconnect attempts (state 'failed'). Default: never. */
  maxAttempts?: number;
  random?: () => number;
}

/** Delay before reconnect attempt `attempt` (1-based): exponential, capped, with jitter. */
export function backoffDelayMs(attempt: number, o: BackoffOptions = {}): number {
  const initial = o.initialDelayMs ?? 500;
  const max = o.maxDelayMs ?? 30_000;
  const factor = o.factor ?? 2;
  const jitter = o.jitter ?? 0.2;
  const base = Math.min(max, initial * factor ** Math.max(0, attempt - 1));
  const r = (o.random ?? Math.random)();
  return Math.max(0, Math.round(base * (1 - jitter + 2 * jitter * r)));
}

function toUserFacing(err: unknown): UserFacingError {
  return err instanceof UserFacingError ? err : new UserFacingError('ssh-failed', (err as Error)?.message ?? String(err));
}

/**
 * Keeps one SshSession alive: after a drop it connects again with exponential backoff (capped,
 * jittered, cancellable by close()). Failures a retry cannot fix — unknown or changed host key,
 * refused login, missing passphrase — stop it in state 'failed' instead of hammering the server.
 * Listeners of 'session' re-open what lived on the old connection (agent attach, tunnels).
 */
export class ReconnectingSession extends EventEmitter<{
  state: [ReconnectState, ReconnectStateInfo];
  session: [SshSession];
  drop: [ReconnectStateInfo];
}> {
  private _state: ReconnectState = 'idle';
  private _session: SshSession | null = null;
  private lastError: UserFacingError | undefined;
  private timer: NodeJS.Timeout | null = null;
  private abort: AbortController | null = null;
  private waiters: { resolve: (s: SshSession) => void; reject: (e: unknown) => void }[] = [];

  constructor(
    private readonly connectOnce: (signal: AbortSignal) => Promise<SshSession>,
    private readonly backoff: BackoffOptions = {},
  ) {
    super();
  }

  /**
   * From SshSession options. Passphrases typed once are kept in memory (never on disk) so a
   * reconnect does not ask again.
   */
  static fromOptions(opts: SshConnectOptions, backoff?: BackoffOptions): ReconnectingSession {
    const passphrases = new Map<string, string>();
    const ask = opts.onPassphrase;
    const onPassphrase = ask
      ? async (file: string, info?: { attempt: number }) => {
          const known = passphrases.get(file);
          if (known !== undefined && (info?.attempt ?? 1) === 1) return known;
          const p = await ask(file, info);
          if (p !== null) passphrases.set(file, p);
          return p;
        }
      : undefined;
    return new ReconnectingSession(
      (signal) => SshSession.connect({ ...opts, ...(onPassphrase ? { onPassphrase } : {}), signal }),
      backoff,
    );
  }

  get state(): ReconnectState {
    return this._state;
  }

  /** A method, not a comparison, because close() may run during any await. */
  private isClosed(): boolean {
    return this._state === 'closed';
  }

  get session(): SshSession | null {
    return this._session;
  }

  private setState(s: ReconnectState, info: ReconnectStateInfo = {}): void {
    this._state = s;
    this.emit('state', s, info);
  }

  /** First connection. Errors are thrown as they are (no retry): the caller shows them. */
  async start(): Promise<SshSession> {
    if (this.isClosed()) throw new UserFacingError('cancelled', 'This connection was closed.');
    if (this._session?.isOpen) return this._session;
    this.setState('connecting');
    this.abort = new AbortController();
    try {
      const s = await this.connectOnce(this.abort.signal);
      if (this.isClosed()) {
        await s.close();
        throw new UserFacingError('cancelled', 'This connection was closed while connecting.');
      }
      this.adopt(s);
      return s;
    } catch (err) {
      if (this._state !== 'closed') {
        this.lastError = toUserFacing(err);
        this.setState('failed', { error: this.lastError });
        this.flushWaiters();
      }
      throw err;
    }
  }

  /** The live session, waiting through a reconnect if one is under way. */
  ready(signal?: AbortSignal): Promise<SshSession> {
    if (this._session?.isOpen && this._state === 'connected') return Promise.resolve(this._session);
    if (this._state === 'failed' || this.isClosed() || this._state === 'idle') {
      return Promise.reject(this.lastError ?? new UserFacingError('connection-lost', 'Not connected.'));
    }
    return new Promise((resolve, reject) => {
      const w = { resolve, reject };
      this.waiters.push(w);
      signal?.addEventListener(
        'abort',
        () => {
          this.waiters = this.waiters.filter((x) => x !== w);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  private adopt(s: SshSession): void {
    this._session = s;
    this.lastError = undefined;
    this.setState('connected');
    this.emit('session', s);
    this.flushWaiters();
    s.onClose((info) => {
      if (this._session !== s) return;
      this._session = null;
      if (info.expected || this.isClosed()) return;
      this.lastError = info.error;
      this.emit('drop', { ...(info.error ? { error: info.error } : {}) });
      this.scheduleReconnect(1);
    });
  }

  private scheduleReconnect(attempt: number): void {
    if (this.isClosed()) return;
    const max = this.backoff.maxAttempts ?? Infinity;
    if (attempt > max) {
      this.setState('failed', { ...(this.lastError ? { error: this.lastError } : {}) });
      this.flushWaiters();
      return;
    }
    const delayMs = backoffDelayMs(attempt, this.backoff);
    this.setState('reconnecting', { attempt, delayMs, ...(this.lastError ? { error: this.lastError } : {}) });
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.attempt(attempt);
    }, delayMs);
  }

  private async attempt(attempt: number): Promise<void> {
    if (this.isClosed()) return;
    this.abort = new AbortController();
    try {
      const s = await this.connectOnce(this.abort.signal);
      if (this.isClosed()) {
        await s.close();
        return;
      }
      this.adopt(s);
    } catch (err) {
      if (this.isClosed()) return;
      this.lastError = toUserFacing(err);
      if (!isRetryableSshError(err)) {
        this.setState('failed', { error: this.lastError });
        this.flushWaiters();
        return;
      }
      this.scheduleReconnect(attempt + 1);
    }
  }

  private flushWaiters(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) {
      if (this._session?.isOpen && this._state === 'connected') w.resolve(this._session);
      else w.reject(this.lastError ?? new UserFacingError('connection-lost', 'Not connected.'));
    }
  }

  /** Retries now instead of waiting out the backoff (e.g. the user pressed "Reconnect"). */
  retryNow(): void {
    if (this._state !== 'reconnecting' && this._state !== 'failed') return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this._state === 'failed') this.setState('reconnecting', { attempt: 1, delayMs: 0 });
    void this.attempt(1);
  }

  /** Stops reconnecting and closes the session. Idempotent. */
  async close(): Promise<void> {
    if (this.isClosed()) return;
    this._state = 'closed';
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.abort?.abort(new UserFacingError('cancelled', 'The connection was closed.'));
    const s = this._session;
    this._session = null;
    this.lastError = new UserFacingError('cancelled', 'The connection was closed.');
    this.emit('state', 'closed', {});
    this.flushWaiters();
    if (s) await s.close();
  }
}
