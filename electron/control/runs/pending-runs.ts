import path from 'node:path';
import { z } from 'zod';
import { RunDeployment, Workload } from '../../../common/run-record';
import { readJsonFile, writeJsonAtomic } from '../storage/json-file';

/**
 * Runs started on a host and not yet in the local store: `runs/.pending.json`. An entry is written
 * before bench.start is sent, so a controller that dies at any point still knows where to look;
 * it goes when the record has been copied into the store (or the user deletes it).
 */
export const PendingRun = z.object({
  runId: z.string(),
  host: z.string(),
  deploymentId: z.string().nullable(),
  group: z.string().nullable(),
  name: z.string().nullable(),
  createdAt: z.string(),
  tool: z.string(),
  workload: Workload,
  deployment: RunDeployment.nullable(),
  simulated: z.boolean(),
  /** Why the last attempt to reach or collect it failed. */
  problem: z.string().nullable().default(null),
});
export type PendingRun = z.infer<typeof PendingRun>;

const PendingFile = z.object({ version: z.literal(1), runs: z.array(PendingRun) });
type PendingFile = z.infer<typeof PendingFile>;

export class PendingRuns {
  readonly file: string;
  private writes: Promise<unknown> = Promise.resolve();

  constructor(runsRoot: string) {
    this.file = path.join(runsRoot, '.pending.json');
  }

  async list(): Promise<PendingRun[]> {
    await this.writes.catch(() => undefined);
    return (await this.read()).runs;
  }

  async get(runId: string): Promise<PendingRun | undefined> {
    return (await this.list()).find((r) => r.runId === runId);
  }

  put(run: PendingRun): Promise<void> {
    return this.mutate((list) => [...list.filter((r) => r.runId !== run.runId), run]);
  }

  setProblem(runId: string, problem: string | null): Promise<void> {
    return this.mutate((list) => list.map((r) => (r.runId === runId ? { ...r, problem } : r)));
  }

  remove(runId: string): Promise<void> {
    return this.mutate((list) => list.filter((r) => r.runId !== runId));
  }

  private read(): Promise<PendingFile> {
    return readJsonFile(this.file, PendingFile, () => ({ version: 1 as const, runs: [] }));
  }

  /** Serialised read-modify-write, as DeploymentsStore does. */
  private mutate(fn: (list: PendingRun[]) => PendingRun[]): Promise<void> {
    const next = this.writes.then(async () => {
      const data = await this.read();
      await writeJsonAtomic(this.file, { version: 1, runs: fn(data.runs) });
    });
    this.writes = next.catch(() => undefined);
    return next;
  }
}
