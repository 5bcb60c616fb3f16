import { describe, expect, it } from 'vitest';
import { TaskRunner } from './task-runner';

describe('TaskRunner', () => {
  it('reports steps and the result of a successful task', async () => {
    const runner = new TaskRunner();
    const seen: string[] = [];
    runner.on('updated', (t) => seen.push(`${t.state}:${t.steps.map((s) => s.state).join(',')}`));
    const t = runner.start('demo', 'Demo', [{ id: 'a', label: 'A' }], async (ctx) => {
      ctx.step('a', 'running');
      ctx.step('a', 'done', 'fine');
      return 42;
    });
    const done = await runner.wait(t.id);
    expect(done.state).toBe('succeeded');
    expect(done.result).toBe(42);
    expect(done.steps[0]).toMatchObject({ state: 'done', detail: 'fine' });
    expect(seen[0]).toBe('running:pending');
  });

  it('pauses for an answer and resumes with it', async () => {
    const runner = new TaskRunner();
    const t = runner.start('demo', 'Demo', [], async (ctx) => {
      const a = await ctx.ask({ kind: 'trust-host-key', host: 'h', port: 22, keyType: 'ssh-ed25519', fingerprint: 'SHA256:x' });
      return a.trust;
    });
    await new Promise((r) => setImmediate(r));
    expect(runner.get(t.id).state).toBe('needs-input');
    expect(runner.get(t.id).prompt?.kind).toBe('trust-host-key');
    expect(() => runner.answer(t.id, { kind: 'passphrase', passphrase: 'x' })).toThrow(/asked for "trust-host-key"/);
    runner.answer(t.id, { kind: 'trust-host-key', trust: true });
    const done = await runner.wait(t.id);
    expect(done.result).toBe(true);
    expect(done.prompt).toBeUndefined();
  });

  it('cancels a task waiting for input and marks running steps skipped', async () => {
    const runner = new TaskRunner();
    const t = runner.start('demo', 'Demo', [{ id: 'a', label: 'A' }], async (ctx) => {
      ctx.step('a', 'running');
      await ctx.ask({ kind: 'passphrase', keyFile: '/k' });
    });
    await new Promise((r) => setImmediate(r));
    runner.cancel(t.id);
    const done = await runner.wait(t.id);
    expect(done.state).toBe('cancelled');
    expect(done.steps[0]!.state).toBe('skipped');
  });

  it('turns a thrown error into a failed task with the error payload', async () => {
    const runner = new TaskRunner();
    const t = runner.start('demo', 'Demo', [{ id: 'a', label: 'A' }], async (ctx) => {
      ctx.step('a', 'running');
      throw new Error('boom');
    });
    const done = await runner.wait(t.id);
    expect(done.state).toBe('failed');
    expect(done.error).toEqual({ code: 'internal', message: 'boom' });
    expect(done.steps[0]!.state).toBe('failed');
  });
});
