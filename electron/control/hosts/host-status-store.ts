import path from 'node:path';
import { z } from 'zod';
import { HostInfo, HostState } from '../../../common/host';
import { readJsonFile, writeJsonAtomic } from '../storage/json-file';

const Entry = z.object({ state: HostState, message: z.string().optional(), info: HostInfo.nullable(), checkedAt: z.string().nullable() });
export type HostStatusEntry = z.infer<typeof Entry>;
const FileSchema = z.object({ version: z.literal(1), hosts: z.record(z.string(), Entry) });

/** The last check of each host (facts, state), so lists show something without reconnecting. */
export class HostStatusStore {
  private readonly file: string;
  private cache: Record<string, HostStatusEntry> | null = null;
  private writes: Promise<void> = Promise.resolve();

  constructor(home: string) {
    this.file = path.join(home, 'host-status.json');
  }

  async all(): Promise<Record<string, HostStatusEntry>> {
    if (!this.cache) {
      // A corrupt cache is not worth failing over: it is rebuilt by the next check.
      this.cache = await readJsonFile(this.file, FileSchema, () => ({ version: 1 as const, hosts: {} }))
        .then((f) => f.hosts)
        .catch(() => ({}));
    }
    return this.cache;
  }

  async set(name: string, entry: HostStatusEntry | null): Promise<void> {
    const all = { ...(await this.all()) };
    if (entry) all[name] = entry;
    else delete all[name];
    this.cache = all;
    const snapshot = all;
    this.writes = this.writes.then(() => writeJsonAtomic(this.file, { version: 1, hosts: snapshot })).catch(() => undefined);
    await this.writes;
  }
}
