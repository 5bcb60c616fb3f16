import fs from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { redactText } from '../../../common/artifacts';
import { BENCH_FETCH_MAX_BYTES } from '../../../common/bench-rpc';
import { UserFacingError } from '../../../common/errors';
import type { RpcClient } from '../../../common/rpc-client';
import { NixlTransferRecord } from '../../../common/kv/nixl-transfer';
import { MetricSample, RequestRecord, RouterTrace, RunJson } from '../../../common/run-record';
import { parseJsonl, RUN_FILES, type LocalRunStore } from './local-run-store';

/** Text artifacts a tool may have written a header or key into; redacted on the way in. */
const REDACT_IN_ARTIFACTS = /\.(json|jsonl|csv|txt|log|ya?ml|md|sh)$/i;
const RECORD_FILES: ReadonlyArray<[string, z.ZodType<unknown>]> = [
  [RUN_FILES.requests, RequestRecord],
  [RUN_FILES.samples, MetricSample],
  [RUN_FILES.traces, RouterTrace],
];

export class RunStillRunning extends UserFacingError {
  constructor(runId: string) {
    super('run-running', `Run "${runId}" is still running on its host.`);
  }
}

function safeRel(rel: string, runId: string): string {
  const clean = path.posix.normalize(rel);
  if (!clean || clean.startsWith('/') || clean === '..' || clean.startsWith('../') || clean.includes('\0')) {
    throw new UserFacingError('run-file-path', `The host listed "${rel}" as a file of run "${runId}"; that is not a path inside the run. The agent may be damaged; run "handoff hosts check".`);
  }
  return clean;
}

/**
 * Copies a finished run from its host's agent (bench.fetch, chunk by chunk) into the local store:
 * into a temporary directory, checked (run.json against RunJson, every JSONL line against its
 * schema), then renamed into place. A run that is still running is refused with RunStillRunning.
 */
export async function collectRun(rpc: RpcClient, runId: string, store: LocalRunStore, signal?: AbortSignal): Promise<string> {
  const opts = { timeoutMs: 60_000, ...(signal ? { signal } : {}) };
  const manifest = await rpc.call('bench.fetch', { runId }, opts);
  if (manifest.status === 'running') throw new RunStillRunning(runId);
  const writer = await store.begin(runId);
  try {
    for (const f of manifest.files) {
      const rel = safeRel(f.path, runId);
      const redact = rel.startsWith(`${RUN_FILES.artifacts}/`) && REDACT_IN_ARTIFACTS.test(rel);
      const parts: Buffer[] = [];
      let offset = 0;
      await writer.write(rel, '');
      for (;;) {
        const r = await rpc.call('bench.fetch', { runId, path: f.path, offset, maxBytes: BENCH_FETCH_MAX_BYTES }, opts);
        if (!r.chunk) throw new UserFacingError('run-fetch', `The host sent no data for ${f.path} of run "${runId}".`);
        const data = Buffer.from(r.chunk.dataBase64, 'base64');
        if (redact) parts.push(data);
        else await writer.append(rel, data);
        offset += data.length;
        if (r.chunk.eof || data.length === 0) break;
      }
      if (redact) await writer.write(rel, redactText(Buffer.concat(parts).toString('utf8')));
    }
    const runText = await fs.readFile(writer.resolve(RUN_FILES.runJson), 'utf8').catch(() => null);
    const run = runText === null ? RunJson.safeParse(manifest.runJson) : RunJson.safeParse(JSON.parse(runText));
    if (!run.success) throw new UserFacingError('run-record-invalid', `The run.json of "${runId}" on its host is not a valid run record; it was not collected.`);
    if (run.data.status === 'running') throw new RunStillRunning(runId);
    if (runText === null) await writer.write(RUN_FILES.runJson, JSON.stringify(run.data, null, 2) + '\n');
    for (const [name, schema] of RECORD_FILES) {
      const abs = writer.resolve(name);
      const text = await fs.readFile(abs, 'utf8').catch(() => null);
      // Every run has the three record files, empty when there was nothing to record.
      if (text === null) await writer.write(name, '');
      else parseJsonl(text, schema, `${name} of run "${runId}"`);
    }
    // Optional: present only when the decode workers wrote NIXL telemetry.
    const transfers = await fs.readFile(writer.resolve(RUN_FILES.transfers), 'utf8').catch(() => null);
    if (transfers !== null) parseJsonl(transfers, NixlTransferRecord, `${RUN_FILES.transfers} of run "${runId}"`);
    return await writer.commit();
  } catch (err) {
    await writer.abort();
    // Another controller (a second terminal) collected it first: the store keeps that copy.
    if (err instanceof UserFacingError && err.code === 'run-exists') return store.dir(runId);
    throw err;
  }
}
