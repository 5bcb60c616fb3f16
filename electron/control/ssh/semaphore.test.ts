import { describe, expect, it } from 'vitest';
import { Semaphore } from './semaphore';

describe('Semaphore', () => {
  it('never lets more than capacity holders in, and serves waiters in order', async () => {
    const s = new Semaphore(2);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const release = await s.acquire();
        active++;
        peak = Math.max(peak, active);
        order.push(i);
        await new Promise((r) => setImmediate(r));
        active--;
        release();
      }),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(s.used).toBe(0);
  });

  it('ignores a second release of the same permit', async () => {
    const s = new Semaphore(1);
    const r = await s.acquire();
    r();
    r();
    expect(s.used).toBe(0);
    await s.acquire();
    expect(s.used).toBe(1);
  });

  it('drops an aborted waiter from the queue and rejects with the abort reason', async () => {
    const s = new Semaphore(1);
    const r = await s.acquire();
    const ac = new AbortController();
    const p = s.acquire(ac.signal);
    ac.abort(new Error('gave up'));
    await expect(p).rejects.toThrow('gave up');
    expect(s.waiting).toBe(0);
    r();
    expect(s.used).toBe(0);
  });

  it('rejects all waiters when the connection goes away', async () => {
    const s = new Semaphore(1);
    await s.acquire();
    const p = s.acquire();
    s.rejectAll(new Error('connection lost'));
    await expect(p).rejects.toThrow('connection lost');
  });
});
