import { EventEmitter } from 'node:events';
import type { z } from 'zod';
import { ApiMethods, type ApiEventEnvelope, type ApiEventName, type ApiEvent } from '../../common/api-contract';
import { parseOrThrow, UserFacingError } from '../../common/errors';
import { HANDOFF_VERSION } from '../../common/version';
import type { ApiHandler } from './api-handler';
import { HostService } from './hosts/host-service';
import { TaskRunner } from './tasks/task-runner';
import type { AgentArtifacts } from './agent/agent-install';
import type { SshHostOptions } from './hosts/ssh-host';

export interface ControllerOptions {
  home: string;
  mode: 'electron' | 'browser' | 'cli';
  artifacts: AgentArtifacts;
  localAgentHome?: string;
  ssh?: Pick<SshHostOptions, 'userKnownHostsFile' | 'sshConfigFile'>;
}

type Handlers = { [M in keyof typeof ApiMethods]: (params: unknown) => Promise<unknown> };

/**
 * The controller: hosts, tasks (and later deployments, runs, reports). Pure Node, no Electron.
 * Every call's params are validated with common/api-contract.ts before they reach a service.
 */
export class Controller implements ApiHandler {
  readonly tasks = new TaskRunner();
  readonly hosts: HostService;
  private readonly events = new EventEmitter<{ event: [ApiEventEnvelope] }>();
  private readonly handlers: Handlers;

  constructor(readonly opts: ControllerOptions) {
    this.hosts = new HostService({ home: opts.home, artifacts: opts.artifacts, ...(opts.localAgentHome ? { localAgentHome: opts.localAgentHome } : {}), ...(opts.ssh ? { ssh: opts.ssh } : {}) }, this.tasks);
    this.tasks.on('updated', (t) => this.publish('task.updated', t));
    this.hosts.on('changed', (list) => this.publish('hosts.changed', list));
    const p = <M extends keyof typeof ApiMethods>(m: M, raw: unknown): z.infer<(typeof ApiMethods)[M]['params']> =>
      parseOrThrow(ApiMethods[m].params as unknown as z.ZodType<z.infer<(typeof ApiMethods)[M]['params']>>, raw, `parameters of ${m}`, 'invalid-params');
    this.handlers = {
      'app.info': async () => ({ version: HANDOFF_VERSION, mode: opts.mode, home: opts.home }),
      'hosts.list': async () => this.hosts.list(),
      'hosts.add': async (raw) => this.hosts.add(p('hosts.add', raw)),
      'hosts.check': async (raw) => this.hosts.check(p('hosts.check', raw).name),
      'hosts.remove': async (raw) => {
        await this.hosts.remove(p('hosts.remove', raw).name);
        return { ok: true as const };
      },
      'tasks.list': async () => this.tasks.list(),
      'tasks.get': async (raw) => this.tasks.get(p('tasks.get', raw).id),
      'tasks.cancel': async (raw) => this.tasks.cancel(p('tasks.cancel', raw).id),
      'tasks.answer': async (raw) => {
        const { id, answer } = p('tasks.answer', raw);
        return this.tasks.answer(id, answer);
      },
    };
  }

  async handle(method: string, params: unknown): Promise<unknown> {
    if (!Object.hasOwn(this.handlers, method)) {
      throw new UserFacingError('unknown-method', `Unknown API method "${method}". The app and controller may be different versions; restart Handoff.`);
    }
    return this.handlers[method as keyof Handlers](params);
  }

  subscribe(listener: (envelope: ApiEventEnvelope) => void): () => void {
    this.events.on('event', listener);
    return () => this.events.off('event', listener);
  }

  async close(): Promise<void> {
    for (const t of this.tasks.list()) this.tasks.cancel(t.id);
    await this.hosts.close();
  }

  private publish<E extends ApiEventName>(event: E, data: ApiEvent<E>): void {
    this.events.emit('event', { event, data });
  }
}

export async function createController(opts: ControllerOptions): Promise<Controller> {
  return new Controller(opts);
}
