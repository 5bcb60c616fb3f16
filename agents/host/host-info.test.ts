import { describe, expect, it } from 'vitest';
import { HostInfo } from '../../common/host';
import { collectHostInfo, HostInfoCache } from './host-info';
import type { RunTool, ToolRun } from './run-tool';

const missing: ToolRun = { found: false, code: null, stdout: '', stderr: '', timedOut: false, error: 'spawn ENOENT' };

describe('collectHostInfo', () => {
  it('reports missing tools as found:false and a host without GPUs as valid', async () => {
    const run: RunTool = async () => missing;
    const info = await collectHostInfo({ agentVersion: '9.9.9', run, env: { PATH: '/nonexistent' } });
    expect(HostInfo.safeParse(info).success).toBe(true);
    expect(info).toMatchObject({ nvidiaSmi: { found: false }, gpus: [], topology: null, cudaVersion: null, driverVersion: null, ucx: { found: false }, docker: { found: false }, nvcc: { found: false }, pythons: [], agentVersion: '9.9.9' });
    expect(info.cpus.count).toBeGreaterThan(0);
    expect(info.memoryBytes).toBeGreaterThan(0);
  });

  it('reports an installed nvidia-smi whose driver is not loaded as found, with the reason', async () => {
    const run: RunTool = async (file) =>
      file === 'nvidia-smi'
        ? { found: true, code: 9, stdout: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n", stderr: '', timedOut: false }
        : file === 'docker'
          ? { found: true, code: 0, stdout: 'Docker version 27.1.1, build 6312585\n', stderr: '', timedOut: false }
          : missing;
    const info = await collectHostInfo({ agentVersion: '1', run, env: { PATH: '/nonexistent' } });
    expect(info.nvidiaSmi).toEqual({ found: true, version: null, detail: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver." });
    expect(info.gpus).toEqual([]);
    expect(info.docker).toEqual({ found: true, version: '27.1.1' });
  });

  it('reports a tool that timed out as found with a timeout detail', async () => {
    const run: RunTool = async (file) => (file === 'ucx_info' ? { found: true, code: null, stdout: '', stderr: '', timedOut: true, error: 'timed out after 8000 ms' } : missing);
    const info = await collectHostInfo({ agentVersion: '1', run, env: { PATH: '/nonexistent' } });
    expect(info.ucx).toEqual({ found: true, version: null, detail: 'timed out after 8000 ms' });
  });
});

describe('HostInfoCache', () => {
  const fake = (n: number) => ({ hostname: `h${n}` }) as unknown as HostInfo;

  it('reuses a fresh answer, shares one run between concurrent callers, and refreshes on request or expiry', async () => {
    let now = 0;
    let runs = 0;
    const cache = new HostInfoCache(async () => fake(++runs), 1_000, () => now);
    const [a, b] = await Promise.all([cache.get(), cache.get()]);
    expect([a.hostname, b.hostname, runs]).toEqual(['h1', 'h1', 1]);
    now = 500;
    expect((await cache.get()).hostname).toBe('h1');
    expect((await cache.get(true)).hostname).toBe('h2');
    now = 2_000;
    expect((await cache.get()).hostname).toBe('h3');
  });

  it('does not cache a failure', async () => {
    let runs = 0;
    const cache = new HostInfoCache(async () => {
      runs++;
      if (runs === 1) throw new Error('boom');
      return fake(runs);
    });
    await expect(cache.get()).rejects.toThrow('boom');
    expect((await cache.get()).hostname).toBe('h2');
  });
});
