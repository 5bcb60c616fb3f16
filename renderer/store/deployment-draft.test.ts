import { describe, expect, it } from 'vitest';
import { parseDeploymentSpecText } from '../../common/deployment/spec-parse';
import { sampleHost, sampleInfo } from '../test-fixtures';
import { draftSpecText, draftToSpec, initialDraft, specToYaml, suggestedEngine, type WizardDraft } from './deployment-draft';

const local = sampleHost('this-computer', { info: sampleInfo({ gpus: [] }) });
const localHost = { ...local, config: { kind: 'local' as const, name: 'this-computer', addedAt: '' } };
const gpuHost = sampleHost('gpu1', { info: sampleInfo() });

function parse(draft: WizardDraft) {
  const { text, problems } = draftSpecText(draft);
  const r = parseDeploymentSpecText(text);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return { spec: r.spec, problems, text };
}

describe('wizard draft', () => {
  it('preselects the simulator when no host has a GPU, and vLLM on a GPU host otherwise', () => {
    expect(suggestedEngine([localHost])).toBe('mocker');
    expect(suggestedEngine([])).toBe('mocker');
    expect(suggestedEngine([localHost, gpuHost])).toBe('vllm');
    const d = initialDraft([localHost, gpuHost]);
    expect(d.engine).toBe('vllm');
    expect(d.groups.aggregated[0]).toMatchObject({ host: 'gpu1', gpus: [0] });
    expect(initialDraft([localHost]).groups.disaggregated.map((g) => [g.role, g.host, g.gpus])).toEqual([
      ['prefill', 'this-computer', [0]],
      ['decode', 'this-computer', [1]],
    ]);
  });

  it('writes the seed\'s disaggregated layout as a valid spec with the options the form sets', () => {
    const base = initialDraft([localHost]);
    const draft: WizardDraft = {
      ...base,
      name: 'seed-pd',
      mode: 'disaggregated',
      servedName: 'r1',
      groups: { ...base.groups, disaggregated: [base.groups.disaggregated[0]!, { ...base.groups.disaggregated[1]!, tp: 2, gpus: [2, 1], port: '8200' }] },
      routerPort: '9000',
      blockSize: '16',
      gpuMemoryUtilization: '0.85',
      remotePrefillMinTokens: '256',
      prefillQueueLimit: '8',
      sideChannelBasePort: '5700',
      connector: 'NixlPushConnector',
      extraArgs: '--dtype\n  bfloat16\n\n',
      env: 'HF_HUB_OFFLINE=1\n# comment\nA=b=c',
    };
    const { spec, problems, text } = parse(draft);
    expect(problems).toEqual([]);
    expect(spec.model).toEqual({ path: 'deepseek-ai/DeepSeek-R1-Distill-Llama-8B', servedName: 'r1' });
    expect(spec.workers).toEqual([
      { name: 'prefill', role: 'prefill', host: 'this-computer', tp: 1, gpus: [0] },
      { name: 'decode', role: 'decode', host: 'this-computer', tp: 2, gpus: [1, 2], port: 8200 },
    ]);
    expect(spec.router).toMatchObject({ port: 9000, disaggregation: { remotePrefillMinTokens: 256, prefillQueueLimit: 8 } });
    expect(spec.vllm).toMatchObject({ enforceEager: true, blockSize: 16, gpuMemoryUtilization: 0.85, extraArgs: ['--dtype', 'bfloat16'] });
    expect(spec.kvTransfer).toMatchObject({ connector: 'NixlPushConnector', sideChannelBasePort: 5700 });
    expect(spec.env).toEqual({ HF_HUB_OFFLINE: '1', A: 'b=c' });
    expect(text).toContain('gpus: [1, 2]');
  });

  it('leaves out what the form leaves empty, and mode-only options in the other mode', () => {
    const d = { ...initialDraft([localHost]), enforceEager: false, routerPort: '', remotePrefillMinTokens: '64' };
    const { spec } = draftToSpec(d);
    expect(spec.router).toBeUndefined();
    expect(spec.vllm).toBeUndefined();
    expect(spec.kvTransfer).toBeUndefined();
    expect(spec.workers).toEqual([{ name: 'worker', host: 'this-computer', tp: 1, gpus: [0] }]);
  });

  it('names each field the form cannot turn into a spec value', () => {
    const d: WizardDraft = {
      ...initialDraft([localHost]),
      routerPort: '99999',
      blockSize: 'sixteen',
      gpuMemoryUtilization: '1.5',
      env: 'NOEQUALS',
      groups: { ...initialDraft([localHost]).groups, aggregated: [{ ...initialDraft([localHost]).groups.aggregated[0]!, port: '-1' }] },
    };
    const { problems, spec } = draftToSpec(d);
    expect(problems.map((p) => p.field).sort()).toEqual(['blockSize', 'env', 'gpuMemoryUtilization', 'groups.0.port', 'routerPort']);
    expect(problems.find((p) => p.field === 'routerPort')?.message).toMatch(/from 1 to 65535; "99999"/);
    expect(problems.find((p) => p.field === 'env')?.message).toMatch(/Environment line 1 \("NOEQUALS"\) is not KEY=VALUE/);
    // What could not be written is left out, so the rest still plans.
    expect(spec.router).toBeUndefined();
    expect(spec.vllm).toEqual({ enforceEager: true });
  });

  it('pins every worker group and the router to the CPUs typed, in their shortest form, and names a malformed list', () => {
    const base = initialDraft([localHost]);
    const d: WizardDraft = { ...base, mode: 'disaggregated', workerCpus: '3,1-2', routerCpus: ' 0 ' };
    const { spec, problems } = parse(d);
    expect(problems).toEqual([]);
    expect(spec.workers.map((w) => w.cpus)).toEqual(['1-3', '1-3']);
    expect(spec.router.cpus).toBe('0');
    const bad = draftToSpec({ ...base, workerCpus: '5-2', routerCpus: 'x' });
    expect(bad.problems).toEqual([
      { field: 'workerCpus', message: 'Worker CPUs: the range 5-2 runs backwards.' },
      { field: 'routerCpus', message: 'Router CPUs: "x" is not a CPU number or range (write e.g. 0-3,8).' },
    ]);
    expect(bad.spec.workers[0]!.cpus).toBeUndefined();
  });

  it('deploys the user\'s own YAML verbatim instead of the form when there is one', () => {
    const d = { ...initialDraft([localHost]), yaml: 'apiVersion: handoff/v1\nname: x\n' };
    expect(draftSpecText(d)).toEqual({ text: d.yaml, problems: [], fromYaml: true });
    expect(specToYaml({ apiVersion: 'handoff/v1', name: 'a', model: 'm', workers: [{ gpus: [0, 1] }] })).toBe('apiVersion: handoff/v1\nname: a\nmodel: m\nworkers:\n  - gpus: [0, 1]\n');
  });
});
