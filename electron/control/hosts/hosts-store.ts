import path from 'node:path';
import { HostsFile, LOCAL_HOST_NAME, type HostConfig } from '../../../common/host';
import { UserFacingError } from '../../../common/errors';
import { readJsonFile, writeJsonAtomic } from '../storage/json-file';

/**
 * hosts.json: the saved hosts, no secrets (keys by path only). "This computer" is always there,
 * even in a fresh home, so a newcomer has a host from the first launch.
 */
export class HostsStore {
  readonly file: string;
  private writes: Promise<void> = Promise.resolve();
  private persistedLocal = false;

  constructor(home: string) {
    this.file = path.join(home, 'hosts.json');
  }

  async list(): Promise<HostConfig[]> {
    const data = await readJsonFile(this.file, HostsFile, () => ({ version: 1 as const, hosts: [] }));
    const hosts = [...data.hosts];
    this.persistedLocal = hosts.some((h) => h.kind === 'local');
    if (!this.persistedLocal) {
      hosts.unshift({ kind: 'local', name: LOCAL_HOST_NAME, addedAt: new Date(0).toISOString() });
    }
    return hosts;
  }

  async get(name: string): Promise<HostConfig> {
    const host = (await this.list()).find((h) => h.name === name);
    if (!host) {
      throw new UserFacingError('unknown-host', `There is no host named "${name}". See the saved hosts with "handoff hosts list", or add it with "handoff hosts add ${name} --ssh USER@HOST".`);
    }
    return host;
  }

  async add(host: HostConfig): Promise<void> {
    await this.mutate((hosts) => {
      if (hosts.some((h) => h.name === host.name)) {
        throw new UserFacingError('host-exists', `A host named "${host.name}" already exists. Pick another name, or remove it first with "handoff hosts remove ${host.name}".`);
      }
      if (host.kind === 'local') {
        const existing = hosts.find((h) => h.kind === 'local')!;
        if (existing.name !== LOCAL_HOST_NAME || this.persistedLocal) {
          throw new UserFacingError('host-exists', `This computer is already a host, named "${existing.name}".`);
        }
        // The implicit "this computer" entry is replaced by the named one.
        return [...hosts.filter((h) => h.kind !== 'local'), host];
      }
      return [...hosts, host];
    });
  }

  async remove(name: string): Promise<void> {
    await this.mutate((hosts) => {
      const host = hosts.find((h) => h.name === name);
      if (host?.kind === 'local') {
        throw new UserFacingError('host-permanent', `"${name}" is this computer; it is always available and cannot be removed.`);
      }
      if (!host) {
        throw new UserFacingError('unknown-host', `There is no host named "${name}"; "handoff hosts list" shows the saved ones.`);
      }
      return hosts.filter((h) => h.name !== name);
    });
  }

  /** Serialises read-modify-write so concurrent adds from UI and CLI calls in one process do not lose updates. */
  private mutate(fn: (hosts: HostConfig[]) => HostConfig[]): Promise<void> {
    const next = this.writes.then(async () => {
      const hosts = await this.list();
      const updated = fn(hosts);
      await writeJsonAtomic(this.file, { version: 1, hosts: updated });
    });
    this.writes = next.catch(() => undefined);
    return next;
  }
}
