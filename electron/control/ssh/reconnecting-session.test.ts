import { describe, expect, it } from 'vitest';
import { UserFacingError } from '../../../common/errors';
import { backoffDelayMs, ReconnectingSession, type ReconnectState } from './reconnecting-session';
import { isRetryableSshError } from './ssh-errors';
import type { SshCloseInfo, SshSession } from './ssh-session';

/** Just enough of SshSession for the wrapper: open state, close notification, close(). */
class FakeSession {
  isOpen = true;
  private listeners: ((i: SshCloseInfo) => void)[] = [];
  onClose(cb: (i: SshCloseInfo) => void) {
    this.listeners.push(cb);
    return () => undefined;
  }
  drop(error = new UserFacingError('connection-lost', 'dropped')) {
    this.isOpen = false;
    for (const l of this.listeners) l({ expected: false, error });
  }
  async close() {
    if (!this.isOpen) return;
    this.isOpen = false;
    for (const l of this.listeners) l({ expected: true });
  }
}

const asSession = (f: FakeSession) => f as unknown as SshSession;
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));
const fast = { initialDelayMs: 1, maxDelayMs: 4, jitter: 0 };

describe('backoffDelayMs', () => {
  it('grows exponentially up to the cap, with jitter inside its bounds', () => {
    const o = { initialDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 0 };
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelayMs(a, o))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelayMs(1, { ...o, jitter: 0.5, random: () => 0 })).toBe(50);
    expect(backoffDelayMs(1, { ...o, jitter: 0.5, random: () => 0.999999 })).toBe(150);
  });
});

describe('isRetryableSshError', () => {
  it('retries network trouble but not trust, auth or passphrase problems, also behind a jump host', () => {
    expect(isRetryableSshError(new UserFacingError('host-unreachable', ''))).toBe(true);
    expect(isRetryableSshError(new UserFacingError('connection-lost', ''))).toBe(true);
    expect(isRetryableSshError(new Error('weird'))).toBe(true);
    for (const code of ['host-key-unknown', 'host-key-changed', 'auth-failed', 'passphrase-required', 'passphrase-wrong']) {
      expect(isRetryableSshError(new UserFacingError(code, ''))).toBe(false);
    }
    expect(isRetryableSshError(new UserFacingError('jump-failed', '', { cause: 'auth-failed' }))).toBe(false);
    expect(isRetryableSshError(new UserFacingError('jump-failed', '', { cause: 'host-unreachable' }))).toBe(true);
  });
});

describe('ReconnectingSession', () => {
  it('reconnects after a drop, retrying unreachable errors, and hands out the new session', async () => {
    const fakes: FakeSession[] = [];
    let failuresLeft = 0;
    const rs = new ReconnectingSession(async () => {
      if (failuresLeft-- > 0) throw new UserFacingError('host-unreachable', 'down');
      const f = new FakeSession();
      fakes.push(f);
      return asSession(f);
    }, fast);
    const states: ReconnectState[] = [];
    rs.on('state', (s) => states.push(s));
    const seen: SshSession[] = [];
    rs.on('session', (s) => seen.push(s));

    await rs.start();
    failuresLeft = 2;
    fakes[0]!.drop();
    expect(await rs.ready()).toBe(asSession(fakes[1]!));
    expect(states).toEqual(['connecting', 'connected', 'reconnecting', 'reconnecting', 'reconnecting', 'connected']);
    expect(seen).toHaveLength(2);
    await rs.close();
  });

  it('stops at the first error a retry cannot fix, and ready() rejects with it', async () => {
    let n = 0;
    const first = new FakeSession();
    const rs = new ReconnectingSession(async () => {
      if (n++ === 0) return asSession(first);
      throw new UserFacingError('host-key-changed', 'changed!');
    }, fast);
    await rs.start();
    first.drop();
    await tick(30);
    expect(rs.state).toBe('failed');
    expect(n).toBe(2);
    await expect(rs.ready()).rejects.toMatchObject({ code: 'host-key-changed' });
  });

  it('gives up after maxAttempts', async () => {
    let n = 0;
    const first = new FakeSession();
    const rs = new ReconnectingSession(async () => {
      if (n++ === 0) return asSession(first);
      throw new UserFacingError('host-unreachable', 'down');
    }, { ...fast, maxAttempts: 3 });
    await rs.start();
    first.drop();
    // Poll rather than sleep a fixed time: on a loaded machine the retries can take longer than 50 ms.
    for (let i = 0; i < 200 && rs.state !== 'failed'; i++) await tick(10);
    expect(rs.state).toBe('failed');
    expect(n).toBe(4);
  });

  it('cancels a pending retry on close() and never connects again', async () => {
    let n = 0;
    const first = new FakeSession();
    const rs = new ReconnectingSession(async () => {
      n++;
      return asSession(first);
    }, { initialDelayMs: 60_000, jitter: 0 });
    await rs.start();
    first.drop();
    expect(rs.state).toBe('reconnecting');
    const waiting = rs.ready();
    await rs.close();
    await expect(waiting).rejects.toMatchObject({ code: 'cancelled' });
    expect(rs.state).toBe('closed');
    expect(n).toBe(1);
  });

  it('does not reconnect after an expected close', async () => {
    let n = 0;
    const rs = new ReconnectingSession(async () => (n++, asSession(new FakeSession())), fast);
    const s = await rs.start();
    await s.close();
    await tick(20);
    expect(n).toBe(1);
    await rs.close();
  });

  it('retries at once on retryNow() instead of waiting out the backoff', async () => {
    let n = 0;
    const first = new FakeSession();
    const rs = new ReconnectingSession(async () => (n++ === 0 ? asSession(first) : asSession(new FakeSession())), { initialDelayMs: 60_000, jitter: 0 });
    await rs.start();
    first.drop();
    rs.retryNow();
    await rs.ready();
    expect(n).toBe(2);
    await rs.close();
  });

  it('remembers a typed passphrase in memory so a reconnect does not ask again', async () => {
    // fromOptions wraps onPassphrase; exercise the wrapper through a connect that fails early.
    let asked = 0;
    const rs = ReconnectingSession.fromOptions({
      target: { host: '127.0.0.1', port: 1 },
      identityFile: '/nonexistent/key',
      knownHostsFile: '/nonexistent/kh',
      onUnknownHostKey: async () => false,
      onPassphrase: async () => (asked++, 'pw'),
    });
    await expect(rs.start()).rejects.toMatchObject({ code: 'identity-invalid' });
    expect(asked).toBe(0);
  });
});
