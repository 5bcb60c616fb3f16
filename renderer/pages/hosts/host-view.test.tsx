import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { HandoffApi } from '../../../common/api-contract';
import { AppStoreContext, createAppStore } from '../../store/app-store';
import { sampleHost, sampleInfo } from '../../test-fixtures';
import { gpuSummary } from './host-list';
import { HostView } from './host-view';
import { packageVersion } from './software-versions';
import { linkKind } from './topology-matrix';

const api: HandoffApi = { call: () => new Promise(() => {}), on: () => () => {} };

function render(hostName: string, hosts = [sampleHost('gpu1', { info: sampleInfo() })]): string {
  const store = createAppStore(api);
  store.getState().setHosts(hosts);
  // Server rendering reads zustand's initial state; make the test's state the initial one.
  store.getInitialState = store.getState;
  return renderToStaticMarkup(
    <AppStoreContext.Provider value={store}>
      <HostView name={hostName} />
    </AppStoreContext.Provider>,
  );
}

describe('host view', () => {
  it('shows the GPU table, topology and software of a connected host', () => {
    const html = render('gpu1');
    expect(html).toContain('data-testid="gpu-table"');
    expect(html).toContain('data-testid="gpu-row-1"');
    expect(html).toContain('NVIDIA H100 80GB HBM3');
    expect(html).toContain('1.0 GiB / 79.6 GiB');
    expect(html).toContain('data-testid="topo-GPU0-GPU1"');
    expect(html).toMatch(/class="topo-cell link-nv"[^>]*>NV18/);
    expect(html).toMatch(/class="topo-cell link-sys"[^>]*>SYS/);
    expect(html).toContain('data-testid="python-env-0-vllm">0.11.0');
    expect(html).toContain('data-testid="python-env-0-nixl" data-missing="true"');
    expect(html).toContain('data-testid="tool-docker" data-found="false"');
    expect(html).toContain('data-testid="host-recheck"');
    expect(html).toContain('data-testid="host-remove"');
  });

  it('explains what to do for an unreachable host, next to the controller message', () => {
    const html = render('gpu2', [sampleHost('gpu2', { state: 'unreachable', message: 'Connection refused by 10.0.0.9:22.' })]);
    expect(html).toContain('Connection refused by 10.0.0.9:22.');
    expect(html).toContain('press Re-check');
    expect(html).toContain('data-testid="host-no-info"');
  });

  it('says when no GPU is there rather than showing an empty table', () => {
    const html = render('cpu', [sampleHost('cpu', { info: sampleInfo({ gpus: [], topology: null, nvidiaSmi: { found: false, version: null } }) })]);
    expect(html).toContain('data-testid="gpu-none"');
    expect(html).not.toContain('data-testid="gpu-table"');
    expect(html).toContain('simulated engine');
  });

  it('says plainly when the host does not exist', () => {
    expect(render('ghost')).toContain('There is no host named');
  });
});

describe('host helpers', () => {
  it('classes topology cells by link type', () => {
    expect(['X', 'NV4', 'NV18', 'PIX', 'PXB', 'PHB', 'NODE', 'SYS', 'SOC'].map(linkKind)).toEqual(['self', 'nv', 'nv', 'pix', 'pxb', 'phb', 'node', 'sys', 'other']);
  });

  it('finds package versions whatever the dash/underscore spelling', () => {
    const env = { path: '/p', version: '3.11', packages: { genai_perf: '0.0.16', vllm: null } };
    expect(packageVersion(env, 'genai-perf')).toBe('0.0.16');
    expect(packageVersion(env, 'vllm')).toBeNull();
    expect(packageVersion(env, 'aiperf')).toBeNull();
  });

  it('summarises GPUs by model', () => {
    expect(gpuSummary(sampleInfo())).toBe('2 × NVIDIA H100 80GB HBM3');
    expect(gpuSummary(null)).toBe('—');
    expect(gpuSummary(sampleInfo({ gpus: [], nvidiaSmi: { found: false, version: null } }))).toBe('no NVIDIA GPU');
  });
});
