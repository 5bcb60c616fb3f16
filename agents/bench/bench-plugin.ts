import fs from 'node:fs';
import path from 'node:path';
import { resolveWorkload, type BenchRunStatus } from '../../common/bench-rpc';
import { UserFacingError } from '../../common/errors';
import type { RunJson } from '../../common/run-record';
import type { DaemonApi, DaemonPlugin } from '../daemon/agent-daemon';
import { checkClientCpus } from './client-affinity';
import { BenchRun, type ExecutorDeps } from './run-executor';
import { RunStore } from './run-store';

/**
 * bench.* on the agent daemon. Runs execute in the daemon, not in the client's connection, so they
 * go on when the controller disconnects; bench.progress goes to every attached client, and a
 * client that comes back reads the state with bench.status / bench.list and the record with
 * bench.fetch. At start-up, runs a previous daemon left "running" are closed as partial.
 */

export interface BenchPluginOptions {
  nvidiaSmi?: string;
  findTool?: ExecutorDeps['findTool'];
  progressIntervalMs?: number;
}

export function createBenchPlugin(options: BenchPluginOptions = {}): DaemonPlugin {
  return (api) => registerBench(api, options);
}

export const benchPlugin: DaemonPlugin = createBenchPlugin();

/** bench.status of a run no daemon is executing, from what it left on disk. */
function statusFromDisk(store: RunStore, runId: string, run: RunJson): BenchRunStatus {
  try {
    const saved = JSON.parse(fs.readFileSync(path.join(store.dir(runId), 'progress.json'), 'utf8')) as BenchRunStatus;
    if (saved.runId === runId) return { ...saved, status: run.status };
  } catch {
    // No progress.json: the run was cut off before it ended; describe it from run.json.
  }
  return {
    runId,
    tool: run.tool.name === 'vllm-bench' ? 'builtin' : run.tool.name,
    status: run.status,
    phase: 'done',
    done: 0,
    total: run.workload.requestCount ?? null,
    errors: 0,
    warmupDone: 0,
    createdAt: run.timings.createdAt,
    startedAt: run.timings.startedAt,
    finishedAt: run.timings.finishedAt,
    error: run.status === 'failed' ? (run.notes[run.notes.length - 1] ?? null) : null,
    cancelled: false,
    live: null,
    toolMessage: null,
  };
}

function registerBench(api: DaemonApi, options: BenchPluginOptions): void {
  const log = api.log.child({ component: 'bench' });
  const store = new RunStore(api.layout.runsDir);
  const active = new Map<string, BenchRun>();
  const closed = store.recover(new Set());
  if (closed.length) log.warn('closed runs a previous agent left running', { runs: closed });

  const deps: ExecutorDeps = {
    store,
    log,
    emit: (p) => api.broadcast('bench.progress', p),
    ...(options.nvidiaSmi ? { nvidiaSmi: options.nvidiaSmi } : {}),
    ...(options.findTool ? { findTool: options.findTool } : {}),
    ...(options.progressIntervalMs ? { progressIntervalMs: options.progressIntervalMs } : {}),
  };

  api.registry.handle('bench.start', (params, ctx) => {
    const workload = resolveWorkload(params.workload);
    if (params.tool === 'builtin' && workload.tokenizer !== workload.model && params.workload.tokenizer !== undefined) {
      ctx.log.info('bench.start: the built-in generator counts tokens with the deployment\'s /tokenize; the tokenizer setting is kept for external tools only', { runId: params.runId });
    }
    // Refused here, before the run exists, so a wrong CPU list costs nothing.
    if (params.clientCpus !== undefined) checkClientCpus(params.clientCpus);
    const run = new BenchRun(params, workload, deps);
    active.set(run.id, run);
    ctx.log.info('bench.start', { runId: run.id, tool: params.tool, endpoint: params.endpoint });
    run.start();
    void run.done.finally(() => active.delete(run.id));
    return { runId: run.id, dir: run.dir, status: run.status() };
  });

  api.registry.handle('bench.status', (params) => {
    const run = active.get(params.runId);
    if (run) return run.status();
    return statusFromDisk(store, params.runId, store.readRunJson(params.runId));
  });

  api.registry.handle('bench.cancel', async (params, ctx) => {
    const run = active.get(params.runId);
    if (!run) return statusFromDisk(store, params.runId, store.readRunJson(params.runId));
    ctx.log.info('bench.cancel', { runId: params.runId });
    run.cancel();
    await run.done;
    return run.status();
  });

  api.registry.handle('bench.list', () => ({ runs: store.list(new Set(active.keys())) }));

  api.registry.handle('bench.fetch', (params) => {
    const runJson = store.readRunJson(params.runId);
    const files = store.manifest(params.runId);
    let chunk = null;
    if (params.path !== undefined) {
      const c = store.readChunk(params.runId, params.path, params.offset, params.maxBytes);
      chunk = { path: params.path, offset: params.offset, dataBase64: c.data.toString('base64'), totalBytes: c.totalBytes, eof: c.eof };
    }
    return { runId: params.runId, status: runJson.status, files, runJson, chunk };
  });

  api.registry.handle('bench.remove', (params) => {
    if (active.has(params.runId)) throw new UserFacingError('run-active', `Run "${params.runId}" is still running; cancel it with bench.cancel first.`);
    store.remove(params.runId);
    return { removed: true as const };
  });

  api.onShutdown(async () => {
    await Promise.all([...active.values()].map((r) => r.shutdown()));
  });
}
