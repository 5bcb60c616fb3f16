import path from 'node:path';
import { DeploymentsFile, type DeploymentRecord } from '../../../common/deployment-view';
import { readJsonFile, writeJsonAtomic } from '../storage/json-file';

/**
 * deployments.json: what this controller deployed, where, and with which plan. The hosts' agents
 * own the processes and their live state; this file is how the controller finds them again
 * (after a restart, from the CLI) and which GPUs and ports its next plan must leave alone.
 */
export class DeploymentsStore {
  readonly file: string;
  private writes: Promise<unknown> = Promise.resolve();

  constructor(home: string) {
    this.file = path.join(home, 'deployments.json');
  }

  async list(): Promise<DeploymentRecord[]> {
    await this.writes.catch(() => undefined);
    return (await this.read()).deployments;
  }

  async get(id: string): Promise<DeploymentRecord | undefined> {
    return (await this.list()).find((d) => d.id === id);
  }

  async put(record: DeploymentRecord): Promise<void> {
    await this.mutate((list) => [...list.filter((d) => d.id !== record.id), record]);
  }

  /** Applies `fn` to one record; a record that is gone stays gone. Returns the updated record. */
  async update(id: string, fn: (r: DeploymentRecord) => DeploymentRecord): Promise<DeploymentRecord | undefined> {
    let out: DeploymentRecord | undefined;
    await this.mutate((list) =>
      list.map((d) => {
        if (d.id !== id) return d;
        out = fn(d);
        return out;
      }),
    );
    return out;
  }

  async remove(id: string): Promise<void> {
    await this.mutate((list) => list.filter((d) => d.id !== id));
  }

  private read(): Promise<DeploymentsFile> {
    return readJsonFile(this.file, DeploymentsFile, () => ({ version: 1 as const, deployments: [] }));
  }

  /** Serialised read-modify-write: progress events and API calls in one process never lose each other's updates. */
  private mutate(fn: (list: DeploymentRecord[]) => DeploymentRecord[]): Promise<void> {
    const next = this.writes.then(async () => {
      const data = await this.read();
      await writeJsonAtomic(this.file, { version: 1, deployments: fn(data.deployments) });
    });
    this.writes = next.catch(() => undefined);
    return next;
  }
}
