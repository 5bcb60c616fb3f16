import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { HandoffApi } from '../../../common/api-contract';
import { planDeployment } from '../../../common/deployment/planner';
import { DeploymentSpec, type DeploymentSpecInput } from '../../../common/deployment/spec';
import { AGENT_COMMAND, hostFacts, SEED_MODEL } from '../../../common/deployment/testing-hosts';
import { classifyLink, fabricVerdict, linkFromCell } from '../../../common/kv/fabric-link';
import { fabricKey, type FabricProbeRecord } from '../../../common/kv/fabric-probe';
import { KvprobeResult } from '../../../common/kv/kvprobe-result';
import type { RunJson } from '../../../common/run-record';
import { runFabricLine, runKvPairs } from '../../charts/bench-kv-fabric';
import { AppStoreContext, createAppStore } from '../../store/app-store';
import { fabricRequestKey } from '../../store/fabric-slice';
import { sampleHost, sampleInfo, sampleTask } from '../../test-fixtures';
import { blockSizeOf, FabricCheckCard, planKvPairs } from '../deployments/wizard/fabric-check-card';
import { requestBytesPerBlock, storedRecordFor } from './fabric-check';
import { fabricFailureHint, fabricUnavailableReason } from './fabric-hints';
import { FabricSection } from './fabric-section';
import tp1Json from '../../../common/kv/fixtures/kvprobe/h100-nvlink-llama8b-tp1.json' with { type: 'json' };
import tp2Json from '../../../common/kv/fixtures/kvprobe/h100-nvlink-llama8b-tp2.json' with { type: 'json' };

// Recorded on 2 × H100 NV18 (common/kv/fixtures/kvprobe/README.txt).
const tp1 = KvprobeResult.parse(tp1Json);
const tp2 = KvprobeResult.parse(tp2Json);

function record(result: KvprobeResult, cell = 'NV18', host = 'gpu1'): FabricProbeRecord {
  const link = linkFromCell(cell);
  const { bytesPerBlock: _b, piecesPerBlock: _p, ...shape } = result.shape;
  return {
    key: fabricKey(result.src.index, result.dst.index, shape),
    host,
    srcGpu: result.src.index,
    dstGpu: result.dst.index,
    model: SEED_MODEL,
    tp: result.shape.kvHeadsPerRank === 8 ? 1 : 2,
    link,
    verdict: fabricVerdict(link, result),
    provenance: { via: 'cached', path: '/home/u/.handoff/kvprobe/kvprobe', notes: [] },
    result,
    measuredAt: '2026-11-26T15:43:57.000Z',
  };
}

const api: HandoffApi = { call: () => new Promise(() => {}), on: () => () => {} };

function render(node: React.ReactNode, setup: (s: ReturnType<typeof createAppStore>) => void = () => undefined): string {
  const store = createAppStore(api);
  setup(store);
  store.getInitialState = store.getState;
  return renderToStaticMarkup(<AppStoreContext.Provider value={store}>{node}</AppStoreContext.Provider>);
}

const gpuHost = sampleHost('gpu1', { info: sampleInfo() });
const noGpuHost = sampleHost('laptop', { info: sampleInfo({ gpus: [], topology: null }) });

describe('fabric check: before it runs', () => {
  it('refuses a host without GPUs with the reason, and a pair that is not two GPUs of the host', () => {
    expect(fabricUnavailableReason(noGpuHost, 0, 1)).toMatch(/no NVIDIA GPU.*needs a GPU host/);
    expect(fabricUnavailableReason(gpuHost, 1, 1)).toMatch(/same GPU/);
    expect(fabricUnavailableReason(gpuHost, 0, 5)).toContain('no GPU 5');
    expect(fabricUnavailableReason(sampleHost('new'), 0, 1)).toContain('not been checked');
    expect(fabricUnavailableReason(gpuHost, 0, 1)).toBeNull();
  });

  it('says what to do next for each failure code of the probe', () => {
    expect(fabricFailureHint('no-gpu', noGpuHost, true)).toMatch(/"laptop" has no NVIDIA GPU.*fabric check needs two NVIDIA GPUs on one host/);
    expect(fabricFailureHint('no-gpu', gpuHost, false)).toContain('nvidia-smi');
    expect(fabricFailureHint('kvprobe-unavailable', gpuHost, false)).toMatch(/nvcc or a Python with PyTorch.*Check again/);
    expect(fabricFailureHint('unknown-model', gpuHost, false)).toContain('built-in config');
    expect(fabricFailureHint('cancelled', gpuHost, false)).toBeUndefined();
  });

  it('finds the stored record of the same pair and bytes per block for a model-named request', () => {
    const req = { host: 'gpu1', srcGpu: 0, dstGpu: 1, model: SEED_MODEL, tp: 2, blockSize: 16 };
    expect(requestBytesPerBlock(req)).toBe(1048576);
    expect(requestBytesPerBlock({ ...req, model: 'no/such-model' })).toBeNull();
    expect(storedRecordFor([record(tp1), record(tp2)], req)?.result.shape.kvHeadsPerRank).toBe(4);
    expect(storedRecordFor([record(tp1)], req)).toBeNull();
    expect(storedRecordFor([record(tp2)], { ...req, dstGpu: 2 })).toBeNull();
  });
});

describe('fabric result view', () => {
  it('shows link type, expected figure, per-block latency and GB/s per mode, and no warning for the recorded H100 pair', () => {
    const html = render(<FabricSection host={gpuHost} />, (s) => s.setState({ fabricRecords: { gpu1: [record(tp1)] } }));
    const id = 'fabric-stored-0-1-2097152';
    expect(html).toContain(`data-testid="${id}" data-verdict="ok"`);
    expect(html).toMatch(new RegExp(`data-testid="${id}-link" data-topo="NV18" data-kind="nvlink"`));
    expect(html).toContain(`data-testid="${id}-link-expected">360<`);
    expect(html).toMatch(new RegExp(`data-testid="${id}-gather-188-us" data-value="5.6637"[^>]*>5.66 µs<`));
    expect(html).toMatch(new RegExp(`data-testid="${id}-gather-188-gbps" data-value="370.2821"[^>]*>370<`));
    expect(html).toContain(`${id}-host-staged-188-us`);
    expect(html).not.toContain(`${id}-warning`);
    expect(html).toContain('data-testid="fabric-record-count">1<');
    expect(html).toContain('data-testid="fabric-expectations-source"');
  });

  it('warns on a slow link with what to do, even when the stored verdict did not', () => {
    const slow = { ...tp1, peerAccess: false };
    const html = render(<FabricSection host={gpuHost} />, (s) => s.setState({ fabricRecords: { gpu1: [record(slow, 'SYS')] } }));
    expect(html).toContain('data-verdict="slow"');
    expect(html).toContain('data-code="no-peer-access"');
    expect(html).toContain('data-code="slow-link-class"');
  });

  it('tells a host without GPUs that there is no fabric to measure', () => {
    const html = render(<FabricSection host={noGpuHost} />);
    expect(html).toContain('data-testid="fabric-needs-gpus"');
    expect(html).not.toContain('data-testid="fabric-check-run"');
  });

  it('shows a running probe with its progress and cancel', () => {
    const req = { host: 'gpu1', srcGpu: 0, dstGpu: 1, model: SEED_MODEL, tp: 1, blockSize: 16 };
    const task = sampleTask({ id: 'fp1', kind: 'fabric-probe', title: 'Fabric probe gpu1 GPU 0 → GPU 1', steps: [{ id: 'measure', label: 'Measure block copies', state: 'running', progress: 0.4 }] });
    const html = render(<FabricSection host={gpuHost} />, (s) => s.setState({ tasks: { fp1: task }, fabricTaskIds: { [fabricRequestKey(req)]: 'fp1' } }));
    expect(html).toContain('data-testid="fabric-check" data-state="running"');
    expect(html).toContain('data-testid="task-cancel"');
    expect(html).toContain('Checking…');
  });
});

function plan(input: Partial<DeploymentSpecInput>, hosts: Record<string, ReturnType<typeof hostFacts>> = { 'this-computer': hostFacts() }) {
  const spec: DeploymentSpecInput = {
    apiVersion: 'handoff/v1',
    name: 'pd',
    model: SEED_MODEL,
    engine: 'vllm',
    mode: 'disaggregated',
    workers: [
      { name: 'prefill', role: 'prefill', gpus: [0] },
      { name: 'decode', role: 'decode', tp: 2, gpus: [1, 2] },
    ],
    ...input,
  };
  const r = planDeployment(DeploymentSpec.parse(spec), hosts, { busyGpus: {}, usedPorts: {}, agentCommand: AGENT_COMMAND });
  if (!r.ok) throw new Error(r.problems.map((p) => p.message).join('\n'));
  return r.plan;
}

describe('wizard fabric check', () => {
  it('checks each prefill → decode GPU pair of the plan with the decode TP and block size', () => {
    const p = plan({ vllm: { blockSize: 32 } });
    expect(planKvPairs(p).map((x) => `${x.srcGpu}>${x.dstGpu}@tp${x.decodeTp}`)).toEqual(['0>1@tp2', '0>2@tp2']);
    expect(blockSizeOf(p.processes.find((x) => x.role === 'decode')!.argv)).toBe(32);
    expect(blockSizeOf(['vllm', 'serve', '--block-size=64'])).toBe(64);
    expect(blockSizeOf(['vllm', 'serve'])).toBe(16);
  });

  it('offers a check per pair with its link, and states what cannot be measured across hosts', () => {
    const host = sampleHost('this-computer', { info: sampleInfo({ gpus: [0, 1, 2].map((index) => ({ ...sampleInfo().gpus[0]!, index, uuid: `GPU-${index}` })) }) });
    const html = render(<FabricCheckCard plan={plan({})} hosts={[host]} simulated={false} />);
    expect(html).toContain('data-testid="wizard-fabric-pair-0"');
    expect(html).toContain('data-testid="wizard-fabric-pair-1"');
    expect(html).toContain('data-testid="wizard-fabric-pair-0-check-run"');
    expect(html).toContain('decode TP 2, block size 16');
    const unknown = render(<FabricCheckCard plan={{ ...plan({}), model: { path: '/models/my-own', servedName: 'mine' } }} hosts={[host]} simulated={false} />);
    expect(unknown).toContain('data-testid="wizard-fabric-pair-0-check-unavailable"');
    expect(unknown).toContain('no built-in config');

    const two = { 'gpu-a': hostFacts(), 'gpu-b': hostFacts() };
    const cross = plan({ workers: [{ role: 'prefill', host: 'gpu-a', gpus: [0] }, { role: 'decode', host: 'gpu-b', gpus: [0] }], hosts: { 'gpu-a': { address: '10.0.0.1' }, 'gpu-b': { address: '10.0.0.2' } } }, two);
    const crossHtml = render(<FabricCheckCard plan={cross} hosts={[sampleHost('gpu-a'), sampleHost('gpu-b')]} simulated={false} />);
    expect(crossHtml).toContain('data-cross-host="true"');
    expect(crossHtml).toContain('kvprobe cannot measure');
    expect(crossHtml).not.toContain('-check-run');
  });
});

describe('run view reference line', () => {
  const run = (over: Partial<RunJson> = {}): RunJson =>
    ({
      schema: 1,
      id: 'r1',
      status: 'complete',
      simulated: false,
      imported: false,
      tool: { name: 'builtin', version: '0.1.0' },
      versions: {},
      spec: { workers: [{ role: 'prefill', host: 'gpu1', tp: 1, gpus: [0] }, { role: 'decode', host: 'gpu1', tp: 2, gpus: [1, 2] }] },
      deployment: null,
      hosts: [{ name: 'gpu1' }],
      timings: { createdAt: '', startedAt: null, finishedAt: null, originEpochNs: null },
      workload: {} as RunJson['workload'],
      artifacts: [],
      notes: [],
      ...over,
    }) as RunJson;
  const sources = [{ source: 'decode-0', bytesPerBlock: 1048576, runMsPerBlock: 0.004, blocks: 10, intervals: [] }];
  const modelled = { msPerBlock: 0.0028, source: 'mocker model' };

  it('draws the stored gather figure of a GPU pair the run used, labelled with the pair', () => {
    expect(runKvPairs(run()).map((p) => `${p.srcGpu}>${p.dstGpu}`)).toEqual(['0>1', '0>2']);
    const line = runFabricLine(run(), sources, null, [record(tp1), record(tp2)]);
    expect(line?.label).toBe('fabric ceiling (kvprobe, GPU0→1)');
    expect(line?.msPerBlock).toBeCloseTo(0.0028596, 9);
  });

  it('keeps the mocker figure for a simulated run and draws nothing when no stored result matches', () => {
    expect(runFabricLine(run({ simulated: true }), sources, modelled, [record(tp2)])).toBe(modelled);
    expect(runFabricLine(run(), sources, null, [record(tp1)])).toBeNull();
    expect(runFabricLine(null, sources, null, [record(tp2)])).toBeNull();
  });

  it('reads the link of a pair from the host topology the same way the stored records do', () => {
    expect(classifyLink(sampleInfo().topology, 0, 1).topo).toBe('NV18');
  });
});
