import { describe, expect, it } from 'vitest';
import { sampleHost, sampleInfo } from '../../test-fixtures';
import { buildBenchParams, DEFAULT_FORM, parseLoadList, toolAvailability } from './bench-form';

describe('new benchmark form', () => {
  it('sends the seed preset as it is, at concurrency 10', () => {
    const r = buildBenchParams({ ...DEFAULT_FORM, deployment: 'dep-1' });
    expect(r).toEqual({ params: { deployment: 'dep-1', tool: 'builtin', workload: { preset: 'seed' }, concurrencies: [10] }, points: 1 });
  });

  it('turns a list of concurrencies into a sweep with the custom lengths', () => {
    const r = buildBenchParams({ ...DEFAULT_FORM, deployment: 'd', preset: 'custom', islMean: '512', oslMean: '64', load: '1, 4 16', requestCount: '20', warmupRequestCount: '0', name: 'scan' });
    expect('params' in r && r.params).toMatchObject({ name: 'scan', concurrencies: [1, 4, 16], workload: { islMean: 512, oslMean: 64, requestCount: 20, warmupRequestCount: 0, exactOutput: true } });
    expect('points' in r && r.points).toBe(3);
  });

  it('uses request rates when the load is a rate', () => {
    const r = buildBenchParams({ ...DEFAULT_FORM, deployment: 'd', preset: 'custom', loadKind: 'rate', load: '0.5, 2' });
    expect('params' in r && r.params.requestRates).toEqual([0.5, 2]);
  });

  it('says which field is wrong and how to fix it', () => {
    const r = buildBenchParams({ ...DEFAULT_FORM, preset: 'custom', islMean: 'abc', load: '4, x', requestCount: '0', slos: 'ttft<200' });
    expect('errors' in r && r.errors).toMatchObject({
      deployment: expect.stringContaining('Pick a running deployment'),
      islMean: expect.stringContaining('whole number'),
      load: expect.stringContaining('"x" is not a concurrency'),
      requestCount: expect.stringContaining('at least 1'),
      slos: expect.stringContaining('time_to_first_token:200'),
    });
    expect(parseLoadList('4, 4', 'concurrency')).toContain('repeated');
    expect(parseLoadList('', 'rate')).toContain('request rate');
  });

  it('sends the client CPUs as the shortest list and leaves them out when empty', () => {
    const r = buildBenchParams({ ...DEFAULT_FORM, deployment: 'd', clientCpus: ' 2,0-1 ' });
    expect('params' in r && r.params.clientCpus).toBe('0-2');
    const empty = buildBenchParams({ ...DEFAULT_FORM, deployment: 'd', clientCpus: '  ' });
    expect('params' in empty && 'clientCpus' in empty.params).toBe(false);
  });

  it('blocks a malformed CPU list with a message saying what is wrong', () => {
    const backwards = buildBenchParams({ ...DEFAULT_FORM, deployment: 'd', clientCpus: '3-1' });
    expect(backwards).toEqual({ errors: { clientCpus: 'The range 3-1 runs backwards.' } });
    const word = buildBenchParams({ ...DEFAULT_FORM, deployment: 'd', clientCpus: 'x' });
    expect('errors' in word && word.errors.clientCpus).toBe('"x" is not a CPU number or range (write e.g. 0-3,8).');
  });

  it('asks for the server\'s token count only when checked, and never for genai-perf', () => {
    const seed = buildBenchParams({ ...DEFAULT_FORM, deployment: 'd', serverTokenCount: true });
    expect('params' in seed && seed.params.workload).toEqual({ preset: 'seed', outputTokenCount: 'server' });
    const custom = buildBenchParams({ ...DEFAULT_FORM, deployment: 'd', preset: 'custom', tool: 'aiperf', serverTokenCount: true });
    expect('params' in custom && custom.params.workload.outputTokenCount).toBe('server');
    const unchecked = buildBenchParams({ ...DEFAULT_FORM, deployment: 'd', preset: 'custom' });
    expect('params' in unchecked && 'outputTokenCount' in unchecked.params.workload).toBe(false);
    const gp = buildBenchParams({ ...DEFAULT_FORM, deployment: 'd', tool: 'genai-perf', serverTokenCount: true });
    expect('params' in gp && gp.params.workload).toEqual({ preset: 'seed' });
  });

  it('shows which external tools the router host has installed', () => {
    const host = sampleHost('gpu1', { info: sampleInfo({ pythons: [{ path: '/venv/bin/python', version: '3.12', packages: { aiperf: '0.3.0', 'genai-perf': null } }] }) });
    const t = toolAvailability(host);
    expect(t.builtin.installed).toBe(true);
    expect(t.aiperf).toEqual({ installed: true, detail: 'installed on gpu1: 0.3.0 in /venv/bin/python' });
    expect(t['genai-perf']).toEqual({ installed: false, detail: 'not installed on gpu1 (pip install genai-perf)' });
    expect(toolAvailability(sampleHost('gpu2'))['genai-perf'].detail).toBe('gpu2 has not been checked yet');
  });
});

describe('number formats', () => {
  it('tells close figures apart in tables and shows counts without decimals', async () => {
    const { formatNumber, formatPrecise, formatMs, formatSignedPct } = await import('./bench-format');
    expect(formatPrecise(27.761234567)).toBe('27.7612');
    expect(formatPrecise(1234.5678)).toBe('1,234.57');
    expect(formatNumber(40)).toBe('40');
    expect(formatNumber(4.127)).toBe('4.13');
    expect(formatMs(1350)).toBe('1.35 s');
    expect(formatMs(0.0056)).toBe('5.6 µs');
    expect(formatSignedPct(-41.2)).toBe('\u221241%');
    expect(formatSignedPct(0.01)).toBe('0%');
  });
});
