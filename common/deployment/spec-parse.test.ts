import { describe, expect, it } from 'vitest';
import { UserFacingError } from '../errors';
import { formatProblems } from './problems';
import { loadDeploymentSpec, locateProblems, parseDeploymentSpecText, parseDeploymentSpecValue } from './spec-parse';

const minimal = `apiVersion: handoff/v1
name: tiny
model: Qwen/Qwen3-0.6B
workers:
  - gpus: [0]
`;

function problems(text: string) {
  const r = parseDeploymentSpecText(text);
  if (r.ok) throw new Error('expected problems');
  return r.problems;
}

describe('deployment spec parsing', () => {
  it('fills in the documented defaults', () => {
    const r = parseDeploymentSpecText(minimal);
    if (!r.ok) throw new Error(formatProblems(r.problems));
    expect(r.spec).toEqual({
      apiVersion: 'handoff/v1',
      name: 'tiny',
      model: { path: 'Qwen/Qwen3-0.6B' },
      engine: 'vllm',
      mode: 'aggregated',
      workers: [{ gpus: [0] }],
      router: { port: 8181, bind: '127.0.0.1', policy: 'least-outstanding', disaggregation: { remotePrefillMinTokens: 0 } },
      vllm: {},
      kvTransfer: { connector: 'NixlConnector', loadFailurePolicy: 'fail', sideChannelBasePort: 5600, ucx: { netDevices: 'all' } },
      mocker: {},
      hosts: {},
      env: {},
      restart: { policy: 'off', maxRestarts: 3, backoffS: 5 },
    });
  });

  it('reads the same spec written as JSON, with line numbers for its problems', () => {
    const json = JSON.stringify({ apiVersion: 'handoff/v1', name: 'tiny', model: 'm', workers: [{ gpus: [0], tpp: 2 }] }, null, 2);
    const [p] = problems(json);
    expect(p).toMatchObject({ code: 'spec-invalid', path: ['workers', 0, 'tpp'], line: 10, column: 7 });
    expect(p!.message).toContain('Unknown field "tpp" in workers[0]');
  });

  it('points at the line of a misspelt field', () => {
    const [p] = problems(minimal.replace('  - gpus: [0]', '  - gpus: [0]\n    tensorParallel: 2'));
    expect(p).toMatchObject({ code: 'spec-invalid', line: 6, column: 5, path: ['workers', 0, 'tensorParallel'] });
  });

  it('points at the value of a field with the wrong type', () => {
    const [p] = problems(minimal.replace('  - gpus: [0]', '  - gpus: [0]\n    tp: two'));
    expect(p).toMatchObject({ code: 'spec-invalid', line: 6, path: ['workers', 0, 'tp'] });
    expect(p!.message).toMatch(/^workers\[0\]\.tp: /);
  });

  it('explains the accepted forms of gpus and model', () => {
    const [g] = problems(minimal.replace('gpus: [0]', 'gpus: "0,1"'));
    expect(g!.message).toContain('[[0], [1]]');
    expect(g!.line).toBe(5);
    const [m] = problems(minimal.replace('model: Qwen/Qwen3-0.6B', 'model: 42'));
    expect(m!.message).toContain('Hugging Face id');
  });

  it('rejects another apiVersion with the one it expects', () => {
    const [p] = problems(minimal.replace('handoff/v1', 'handoff/v2'));
    expect(p!.message).toContain('apiVersion: must be "handoff/v1"');
    expect(p!.line).toBe(1);
  });

  it('says a missing field is required, pointing at the enclosing object', () => {
    const ps = problems('apiVersion: handoff/v1\nname: x\nworkers: []\n');
    expect(ps.map((p) => p.message)).toEqual(['model: is required.', 'workers: a deployment needs at least one worker group.']);
    expect(ps[1]!.line).toBe(3);
  });

  it('rejects names that cannot name a directory', () => {
    const [p] = problems(minimal.replace('name: tiny', 'name: My Deployment'));
    expect(p!.message).toContain('lowercase letters, digits and dashes');
  });

  it('reports YAML syntax errors with their position', () => {
    const [p] = problems('apiVersion: handoff/v1\nname: [unclosed\n');
    expect(p!.code).toBe('spec-syntax');
    expect(p!.line).toBeGreaterThanOrEqual(2);
  });

  it('reports duplicate keys instead of keeping the last one', () => {
    const [p] = problems(minimal + 'name: again\n');
    expect(p!.code).toBe('spec-syntax');
    expect(p!.line).toBe(6);
  });

  it('rejects an empty file with a pointer to the examples', () => {
    expect(problems('# nothing\n')[0]!.message).toContain('examples/');
  });

  it('validates values that come from the wizard, without positions', () => {
    const r = parseDeploymentSpecValue({ apiVersion: 'handoff/v1', name: 'w', model: 'm', workers: [{ role: 'leader' }] });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems[0]).toMatchObject({ path: ['workers', 0, 'role'] });
    expect(r.problems[0]!.line).toBeUndefined();
  });

  it('throws one user-facing error listing every problem with file and line', () => {
    try {
      loadDeploymentSpec('apiVersion: handoff/v1\nname: x\nmodel: m\nworkers:\n  - gpu: [0]\n', 'bad.yaml');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(UserFacingError);
      expect((err as UserFacingError).code).toBe('spec-invalid');
      expect((err as UserFacingError).message).toContain('bad.yaml:5:5: error [spec-invalid] (workers[0].gpu) Unknown field "gpu"');
    }
  });

  it('maps a planner problem path back to the line it came from', () => {
    const r = parseDeploymentSpecText(minimal);
    if (!r.ok) throw new Error('parse');
    expect(r.locate(['workers', 0, 'gpus'])).toEqual({ line: 5, column: 5 });
    expect(r.locate(['router', 'port'])).toBeUndefined();
    const [p] = locateProblems([{ code: 'port-in-use', severity: 'error', message: 'm', path: ['router', 'port'] }], r.locate);
    // router is absent from the text: the nearest enclosing node is the whole document.
    expect(p).toMatchObject({ line: 1, column: 1 });
    const [g] = locateProblems([{ code: 'gpu-busy', severity: 'error', message: 'm', path: ['workers', 0, 'gpus'] }], r.locate);
    expect(g).toMatchObject({ line: 5, column: 5 });
  });
});
