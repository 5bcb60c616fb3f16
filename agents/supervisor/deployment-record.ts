import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { DeploymentState, LaunchProcess, LogLimits, ProcessStatus, type RestartRule } from '../../common/deploy-rpc';
import { describeZodError } from '../../common/errors';

/**
 * A deployment as it is kept on disk, `<deploymentsDir>/<id>/state.json`: the launches it was
 * given and the last known status of each process. Rewritten atomically (temp file + rename) on
 * every change, so a daemon that dies at any moment leaves either the old or the new state, and
 * its successor re-adopts the processes from it.
 */
export const STATE_FILE_VERSION = 1;

export const StoredProcess = z.object({ launch: LaunchProcess, status: ProcessStatus });
export type StoredProcess = z.infer<typeof StoredProcess>;

export const DeploymentRecord = z.object({
  version: z.literal(STATE_FILE_VERSION),
  deploymentId: z.string(),
  name: z.string(),
  simulated: z.boolean(),
  spec: z.unknown(),
  logs: LogLimits,
  /** /proc/sys/kernel/random/boot_id when written: start times from another boot identify nothing. */
  bootId: z.string(),
  state: DeploymentState,
  error: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  stoppedAt: z.string().nullable(),
  processes: z.array(StoredProcess),
});
export type DeploymentRecord = z.infer<typeof DeploymentRecord>;

export function deploymentDir(deploymentsDir: string, id: string): string {
  return path.join(deploymentsDir, id);
}
export function stateFile(dir: string): string {
  return path.join(dir, 'state.json');
}
export function logFile(dir: string, processName: string): string {
  return path.join(dir, 'logs', `${processName}.log`);
}

export function writeRecordAtomic(dir: string, record: DeploymentRecord): void {
  const file = stateFile(dir);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(record, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
}

export type LoadedRecord = { dir: string; record: DeploymentRecord } | { dir: string; error: string };

/** Every deployment directory's state; unreadable or invalid files are reported, not thrown. */
export function loadRecords(deploymentsDir: string): LoadedRecord[] {
  let names: string[];
  try {
    names = fs.readdirSync(deploymentsDir);
  } catch {
    return [];
  }
  const out: LoadedRecord[] = [];
  for (const name of names.sort()) {
    const dir = path.join(deploymentsDir, name);
    const file = stateFile(dir);
    let text: string;
    try {
      if (!fs.statSync(dir).isDirectory()) continue;
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      out.push({ dir, error: `${file} is not JSON (${err instanceof Error ? err.message : String(err)})` });
      continue;
    }
    const r = DeploymentRecord.safeParse(json);
    if (!r.success) out.push({ dir, error: describeZodError(file, r.error) });
    else out.push({ dir, record: r.data });
  }
  return out;
}

/** The launch's restart rule, whichever form it was given in. */
export function restartRule(launch: LaunchProcess): RestartRule {
  const r = launch.restart;
  const policy = typeof r === 'string' ? r : r.policy;
  const fromObject: { maxRestarts?: number; backoffS?: number } = typeof r === 'string' ? {} : r;
  return {
    policy,
    maxRestarts: launch.maxRestarts ?? fromObject.maxRestarts ?? 3,
    backoffS: launch.restartBackoffS ?? fromObject.backoffS ?? 1,
  };
}

/** The /metrics URL: given, or the readiness URL's origin + /metrics. */
export function metricsUrlOf(launch: LaunchProcess): string {
  return launch.metricsUrl ?? `${new URL(launch.readiness.url).origin}/metrics`;
}
