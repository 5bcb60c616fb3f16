import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { HandoffApi } from '../../../common/api-contract';
import type { DeploymentSummary, DeploymentView, ProcessView } from '../../../common/deployment-view';
import { AppStoreContext, createAppStore } from '../../store/app-store';
import { initialDraft } from '../../store/deployment-draft';
import { sampleHost, sampleInfo } from '../../test-fixtures';
import { DeploymentList, sortDeployments } from './deployment-list';
import { EndpointCard } from './endpoint-card';
import { StepTopology } from './wizard/step-topology';
import { formatLogLine } from './log-format';
import { ProcessTable } from './process-table';
import { teardownTask } from './stop-deployment';
import { gpuOffer, gpusHeldByDeployments, kvPathLinks, linkBetween, pairLinks } from './wizard/gpu-usage';
import { ProblemList } from './wizard/step-review';

const api: HandoffApi = { call: () => new Promise(() => {}), on: () => () => {} };

function proc(name: string, over: Partial<ProcessView> = {}): ProcessView {
  return {
    name,
    role: 'decode',
    state: 'ready',
    pid: 4242,
    pgid: 4242,
    startTime: 1,
    startedAt: null,
    readyAt: null,
    exitedAt: null,
    exitCode: null,
    signal: null,
    exitKnown: true,
    restarts: 0,
    lastLogLines: [],
    detail: null,
    port: 8200,
    readinessUrl: '',
    metricsUrl: '',
    logFile: '',
    adopted: false,
    host: 'this-computer',
    group: 'decode',
    gpuIds: [1, 2],
    url: '',
    ...over,
  };
}

const summary = (over: Partial<DeploymentSummary> = {}): DeploymentSummary => ({
  id: 'pd-1',
  name: 'pd',
  simulated: true,
  engine: 'mocker',
  mode: 'disaggregated',
  model: 'm',
  hosts: ['this-computer'],
  endpoint: { host: 'this-computer', url: 'http://127.0.0.1:8181', openaiBaseUrl: 'http://127.0.0.1:8181/v1', model: 'm' },
  createdAt: '2026-01-01T00:00:00Z',
  stoppedAt: null,
  state: 'ready',
  error: null,
  processCount: 3,
  ...over,
});

describe('process table', () => {
  it('shows a crashed worker\'s exit code and last log lines under its row', () => {
    const html = renderToStaticMarkup(
      <ProcessTable processes={[proc('prefill-0', { role: 'prefill', gpuIds: [0] }), proc('decode-0', { state: 'crashed', pid: null, exitCode: 137, lastLogLines: ['loading weights', 'CUDA out of memory'] })]} />,
    );
    expect(html).toContain('data-testid="process-state-decode-0" data-state="crashed"');
    expect(html).toContain('data-testid="process-exit-decode-0">137');
    expect(html).toMatch(/data-testid="process-lastlines-decode-0">loading weights\nCUDA out of memory/);
    expect(html).not.toContain('process-lastlines-prefill-0');
    expect(html).toContain('>1,2<');
  });
});

describe('deployments list', () => {
  function render(list: DeploymentSummary[]): string {
    const store = createAppStore(api);
    store.getState().setDeployments(list);
    store.getInitialState = store.getState;
    return renderToStaticMarkup(
      <AppStoreContext.Provider value={store}>
        <DeploymentList />
      </AppStoreContext.Provider>,
    );
  }

  it('labels simulated deployments and hides stopped ones behind a count', () => {
    const html = render([summary(), summary({ id: 'real-1', name: 'real', simulated: false, engine: 'vllm' }), summary({ id: 'old-1', name: 'old', stoppedAt: '2026-01-02T00:00:00Z', state: 'stopped' })]);
    expect(html).toContain('data-testid="deployment-simulated-pd"');
    expect(html).not.toContain('data-testid="deployment-simulated-real"');
    expect(html).toContain('data-testid="deployment-state-pd" data-state="ready"');
    expect(html).not.toContain('deployment-row-old');
    expect(html).toContain('Show 1 stopped');
    expect(html).toContain('http://127.0.0.1:8181/v1');
  });

  it('says what a deployment is when there is none', () => {
    expect(render([])).toContain('data-testid="deployments-empty"');
  });

  it('lists running deployments first, newest first', () => {
    const sorted = sortDeployments([
      summary({ id: 'a', createdAt: '2026-01-01T00:00:00Z', stoppedAt: '2026-01-03T00:00:00Z' }),
      summary({ id: 'b', createdAt: '2026-01-01T00:00:00Z' }),
      summary({ id: 'c', createdAt: '2026-01-02T00:00:00Z' }),
    ]);
    expect(sorted.map((d) => d.id)).toEqual(['c', 'b', 'a']);
  });
});

describe('review problems', () => {
  it('shows each problem with its severity, code, position and message, errors first', () => {
    const html = renderToStaticMarkup(
      <ProblemList
        source="wizard.yaml"
        fieldProblems={[{ field: 'routerPort', message: 'The router port must be a whole number from 1 to 65535; "x" is not.' }]}
        problems={[
          { code: 'model-will-download', severity: 'warning', message: 'vLLM will download it.' },
          { code: 'gpu-busy', severity: 'error', message: 'GPU 1 on "gpu-a" is used by another deployment.', path: ['workers', 1, 'gpus'], line: 19, column: 5 },
        ]}
      />,
    );
    expect(html.indexOf('gpu-busy')).toBeLessThan(html.indexOf('model-will-download'));
    expect(html).toContain('data-code="gpu-busy" data-severity="error"');
    expect(html).toContain('wizard.yaml:19:5 · workers[1].gpus');
    expect(html).toContain('GPU 1 on &quot;gpu-a&quot; is used by another deployment.');
    expect(html).toContain('data-code="form"');
    expect(html).toContain('form · routerPort');
  });
});

describe('stop progress', () => {
  const view = { ...summary(), processes: [proc('decode-0', { state: 'stopping' }), proc('router', { role: 'router', state: 'stopped' })], unreachable: [], plan: {} } as unknown as DeploymentView;

  it('follows each process to stopped while the teardown runs, and names those killed after the grace period', () => {
    const running = teardownTask(view, { state: 'stopping', startedAt: 1 });
    expect(running.state).toBe('running');
    expect(running.steps.map((s) => [s.id, s.state, s.detail])).toEqual([
      ['stop-decode-0', 'running', 'SIGTERM sent'],
      ['stop-router', 'done', 'stopped'],
    ]);
    const done = teardownTask(view, { state: 'done', startedAt: 1, outcome: { id: 'pd-1', state: 'stopped', hosts: [{ host: 'this-computer', killed: ['decode-0'], removedPaths: [] }] } });
    expect(done.state).toBe('succeeded');
    expect(done.steps[0]?.detail).toBe('killed (SIGKILL) after the grace period');
    const failed = teardownTask(view, { state: 'failed', startedAt: 1, error: { code: 'teardown-incomplete', message: 'gpu1 unreachable' } });
    expect(failed.state).toBe('failed');
    expect(failed.error?.code).toBe('teardown-incomplete');
  });
});

describe('log lines', () => {
  it('shows structured JSON lines as time, level, component, message and fields', () => {
    expect(formatLogLine('{"ts":"2026-11-26T13:35:49.727Z","level":"info","component":"router","msg":"router listening","url":"http://127.0.0.1:25584","workers":[]}')).toEqual({
      level: 'info',
      text: '13:35:49 INFO [router] router listening url=http://127.0.0.1:25584 workers=[]',
    });
    expect(formatLogLine('{"level":"error","msg":"upstream failed","detail":"connection refused"}')).toEqual({ level: 'error', text: 'ERROR upstream failed detail="connection refused"' });
  });

  it('keeps other lines as written, with the level of engine log lines', () => {
    expect(formatLogLine('WARNING 11-26 13:35:47 [mocker] slow')).toEqual({ level: 'warn', text: 'WARNING 11-26 13:35:47 [mocker] slow' });
    expect(formatLogLine('{not json')).toEqual({ level: null, text: '{not json' });
    expect(formatLogLine('{"a":1}')).toEqual({ level: null, text: '{"a":1}' });
  });
});

describe('GPU picker facts', () => {
  const info = sampleInfo();
  const host = sampleHost('gpu1', { info });

  it('offers real GPUs to vLLM, simulated ids to the mocker, and none on a host without GPUs', () => {
    expect(gpuOffer(host, 'vllm')).toEqual({ kind: 'real', ids: [0, 1] });
    expect(gpuOffer(host, 'mocker')).toEqual({ kind: 'simulated', ids: [0, 1] });
    const cpu = sampleHost('cpu', { info: sampleInfo({ gpus: [] }) });
    expect(gpuOffer(cpu, 'vllm')).toEqual({ kind: 'cpu-only', ids: [] });
    expect(gpuOffer(cpu, 'mocker').kind).toBe('simulated');
    expect(gpuOffer(sampleHost('new'), 'vllm').kind).toBe('unchecked');
  });

  it('marks GPUs held by running real deployments only (simulated ids never block)', () => {
    const views = { real: { plan: { gpusByHost: { gpu1: [1] } } }, sim: { plan: { gpusByHost: { gpu1: [0] } } } } as unknown as Record<string, DeploymentView>;
    const list = [summary({ id: 'real', name: 'prod', simulated: false }), summary({ id: 'sim', name: 'demo' })];
    expect([...gpusHeldByDeployments(list, views, 'gpu1')]).toEqual([[1, 'prod']]);
    expect([...gpusHeldByDeployments([summary({ id: 'real', simulated: false, stoppedAt: 'x' })], views, 'gpu1')]).toEqual([]);
  });

  it('reads the NVLink links between chosen GPUs and along the prefill → decode path', () => {
    expect(linkBetween(info.topology, 0, 1)).toBe('NV18');
    expect(linkBetween(info.topology, 0, 7)).toBeNull();
    expect(pairLinks(info.topology, [1, 0])).toEqual([{ a: 0, b: 1, link: 'NV18' }]);
    const d = initialDraft([host]);
    const groups = { ...d.groups, disaggregated: d.groups.disaggregated.map((g) => ({ ...g, host: 'gpu1' })) };
    expect(kvPathLinks(info.topology, groups, 'gpu1')).toEqual([{ a: 0, b: 1, link: 'NV18' }]);
  });
});

describe('endpoint', () => {
  const view = (host: string, over: Partial<DeploymentView> = {}) =>
    ({ ...summary({ endpoint: { host, url: 'http://127.0.0.1:8181', openaiBaseUrl: 'http://127.0.0.1:8181/v1', model: 'r1' } }), processes: [], unreachable: [], plan: {}, ...over }) as unknown as DeploymentView;
  function render(v: DeploymentView): string {
    const store = createAppStore(api);
    store.getState().setHosts([{ ...sampleHost('this-computer'), config: { kind: 'local', name: 'this-computer', addedAt: '' } }, sampleHost('gpu1')]);
    store.getInitialState = store.getState;
    return renderToStaticMarkup(
      <AppStoreContext.Provider value={store}>
        <EndpointCard view={v} />
      </AppStoreContext.Provider>,
    );
  }

  it('gives a ready-to-paste request on this computer, and a forward button for a router on another host', () => {
    const local = render(view('this-computer'));
    expect(local).toContain('data-testid="endpoint-curl"');
    expect(local).toContain('&quot;model&quot;:&quot;r1&quot;');
    expect(local).not.toContain('endpoint-forward');
    const remote = render(view('gpu1'));
    expect(remote).toContain('data-testid="endpoint-forward"');
    expect(remote).not.toContain('endpoint-curl');
    expect(render(view('this-computer', { state: 'stopped', stoppedAt: 'x' }))).toContain('data-testid="endpoint-stopped"');
  });
});

describe('topology step', () => {
  it('marks GPUs held by a running deployment or by another program, and shows the NVLink matrix', () => {
    const info = sampleInfo({ gpus: sampleInfo().gpus.map((g) => (g.index === 1 ? { ...g, memoryUsedMiB: 40_000 } : g)) });
    const store = createAppStore(api);
    const host = sampleHost('gpu1', { info });
    store.getState().setHosts([host]);
    store.getState().setDeployments([summary({ id: 'prod-1', name: 'prod', simulated: false, engine: 'vllm', hosts: ['gpu1'] })]);
    store.setState({ deploymentViews: { 'prod-1': { plan: { gpusByHost: { gpu1: [0] } } } as unknown as DeploymentView } });
    const draft = { ...initialDraft([host]), engine: 'vllm' as const };
    draft.groups.aggregated = [{ ...draft.groups.aggregated[0]!, host: 'gpu1', gpus: [] }];
    store.getInitialState = store.getState;
    const html = renderToStaticMarkup(
      <AppStoreContext.Provider value={store}>
        <StepTopology draft={draft} hosts={[host]} />
      </AppStoreContext.Provider>,
    );
    expect(html).toMatch(/data-testid="wizard-group-0-gpu-0"[^>]*data-busy="deployment"/);
    expect(html).toContain('busy: prod');
    expect(html).toMatch(/data-testid="wizard-group-0-gpu-1"[^>]*data-busy="memory"/);
    expect(html).toContain('deployment &quot;prod&quot;');
    expect(html).toContain('another program (memory in use)');
    expect(html).toContain('data-testid="topology-matrix"');
  });
});
