import { describe, expect, it } from 'vitest';
import { failureDetail, runTool } from './run-tool';

describe('runTool', () => {
  it('reports a missing executable as not found rather than failing', async () => {
    const r = await runTool('handoff-no-such-tool', ['-v']);
    expect(r).toMatchObject({ found: false, code: null, timedOut: false });
  });

  it('returns output and exit code of a tool that fails, in the C locale', async () => {
    const r = await runTool('sh', ['-c', 'echo "$LC_ALL"; echo broken >&2; exit 3']);
    expect(r).toMatchObject({ found: true, code: 3, stdout: 'C\n', stderr: 'broken\n' });
    expect(failureDetail(r)).toBe('broken');
  });

  it('kills the whole process group on timeout, even when a grandchild keeps the pipes open', async () => {
    const r = await runTool('sh', ['-c', 'sleep 30 & sleep 30'], { timeoutMs: 300 });
    expect(r).toMatchObject({ found: true, timedOut: true, code: null });
    expect(failureDetail(r)).toMatch(/timed out/);
  });

  it('kills the whole process group when its signal aborts, long before the timeout', async () => {
    const ac = new AbortController();
    const pending = runTool('sh', ['-c', 'sleep 30 & sleep 30'], { timeoutMs: 60_000, signal: ac.signal });
    setTimeout(() => ac.abort(), 200);
    const r = await pending;
    expect(r).toMatchObject({ found: true, timedOut: false, code: null });
  });
});
