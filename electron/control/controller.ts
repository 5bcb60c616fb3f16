import { EventEmitter } from 'node:events';
import type { z } from 'zod';
import { ApiMethods, type ApiEventEnvelope, type ApiEventName, type ApiEvent } from '../../common/api-contract';
import { parseOrThrow, UserFacingError } from '../../common/errors';
import { HANDOFF_VERSION } from '../../common/version';
import type { ApiHandler } from './api-handler';
import { HostService } from './hosts/host-service';
import { FabricService } from './hosts/fabric-service';
import { TaskRunner } from './tasks/task-runner';
import { DeploymentService } from './deployments/deployment-service';
import { RunService } from './runs/run-service';
import { RunSeriesSource } from './runs/run-series-source';
import { RunWaterfallSource } from './runs/run-waterfall-source';
import { ChatService } from './chat/chat-service';
import { ReportService } from './reports/report-service';
import type { PdfRenderer } from './reports/report-pdf';
import type { ReportOpener } from './reports/report-service';
import { ConversationStore } from './chat/conversation-store';
import type { AgentArtifacts } from './agent/agent-install';
import type { SshHostOptions } from './hosts/ssh-host';

export interface ControllerOptions {
  home: string;
  mode: 'electron' | 'browser' | 'cli';
  artifacts: AgentArtifacts;
  localAgentHome?: string;
  ssh?: Pick<SshHostOptions, 'userKnownHostsFile' | 'sshConfigFile'>;
  /** Prints report HTML to PDF; the desktop app passes Electron's printToPDF, otherwise headless Chromium is used. */
  pdfRenderer?: PdfRenderer;
  /** Opens exported files and shows them in their folder; the desktop app passes Electron's shell. */
  reportOpener?: ReportOpener;
}

type Handlers = { [M in keyof typeof ApiMethods]: (params: unknown) => Promise<unknown> };

/**
 * The controller: hosts, tasks (and later deployments, runs, reports). Pure Node, no Electron.
 * Every call's params are validated with common/api-contract.ts before they reach a service.
 */
export class Controller implements ApiHandler {
  readonly tasks = new TaskRunner();
  readonly hosts: HostService;
  readonly fabric: FabricService;
  readonly deployments: DeploymentService;
  readonly runs: RunService;
  private readonly runSeries: RunSeriesSource;
  private readonly runWaterfall: RunWaterfallSource;
  readonly chat: ChatService;
  readonly conversations: ConversationStore;
  readonly reports: ReportService;
  private readonly events = new EventEmitter<{ event: [ApiEventEnvelope] }>();
  private readonly handlers: Handlers;

  constructor(readonly opts: ControllerOptions) {
    this.hosts = new HostService({ home: opts.home, artifacts: opts.artifacts, ...(opts.localAgentHome ? { localAgentHome: opts.localAgentHome } : {}), ...(opts.ssh ? { ssh: opts.ssh } : {}) }, this.tasks);
    this.tasks.on('updated', (t) => this.publish('task.updated', t));
    this.hosts.on('changed', (list) => this.publish('hosts.changed', list));
    this.fabric = new FabricService({ home: opts.home, hosts: this.hosts, tasks: this.tasks });
    this.deployments = new DeploymentService({ home: opts.home, hosts: this.hosts, tasks: this.tasks });
    this.deployments.on('changed', (list) => this.publish('deployments.changed', list));
    this.deployments.on('sample', (s) => this.publish('deployments.sample', s));
    this.deployments.on('log', (l) => this.publish('deployments.log', l));
    this.runs = new RunService({ home: opts.home, hosts: this.hosts, deployments: this.deployments, tasks: this.tasks, mode: opts.mode });
    this.runSeries = new RunSeriesSource(this.runs.store);
    this.runWaterfall = new RunWaterfallSource(this.runs.store, async (name) => {
      const dep = (await this.deployments.store.list()).find((d) => d.name === name);
      return Object.fromEntries((dep?.plan.processes ?? []).filter((x) => x.kind === 'worker').map((x) => [x.name, x.url]));
    });
    this.runs.on('changed', (list) => this.publish('runs.changed', list));
    this.hosts.on('changed', (list) => this.runs.onHostsChanged(list));
    this.runs.resume();
    this.chat = new ChatService({ deployments: this.deployments });
    this.chat.on('delta', (d) => this.publish('chat.delta', d));
    this.chat.on('done', (d) => this.publish('chat.done', d));
    this.conversations = new ConversationStore(opts.home);
    this.reports = new ReportService({
      home: opts.home,
      runs: this.runs,
      series: (detail) => this.runSeries.series(detail),
      waterfall: (detail) => this.runWaterfall.waterfall(detail),
      fabricRecords: async (host) => (await this.fabric.records(host)).records,
      deployments: { list: () => this.deployments.store.list() },
      hosts: this.hosts,
      tasks: this.tasks,
      ...(opts.pdfRenderer ? { pdf: opts.pdfRenderer } : {}),
      ...(opts.reportOpener ? { opener: opts.reportOpener } : {}),
    });
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
      'hosts.fabricProbe': async (raw) => this.fabric.probe(p('hosts.fabricProbe', raw)),
      'hosts.fabric': async (raw) => this.fabric.records(p('hosts.fabric', raw).host),
      'tasks.list': async () => this.tasks.list(),
      'tasks.get': async (raw) => this.tasks.get(p('tasks.get', raw).id),
      'tasks.cancel': async (raw) => this.tasks.cancel(p('tasks.cancel', raw).id),
      'tasks.answer': async (raw) => {
        const { id, answer } = p('tasks.answer', raw);
        return this.tasks.answer(id, answer);
      },
      'deployments.plan': async (raw) => this.deployments.plan(p('deployments.plan', raw)),
      'deployments.apply': async (raw) => this.deployments.apply(p('deployments.apply', raw)),
      'deployments.list': async (raw) => this.deployments.list(p('deployments.list', raw) ?? {}),
      'deployments.status': async (raw) => this.deployments.status(p('deployments.status', raw).id),
      'deployments.teardown': async (raw) => this.deployments.teardown(p('deployments.teardown', raw).id),
      'deployments.logs': async (raw) => {
        const { id, follow, ...opts } = p('deployments.logs', raw);
        return follow ? this.deployments.logsFollowed(id, opts) : this.deployments.logs(id, opts);
      },
      'deployments.unfollow': async (raw) => ({ ok: this.deployments.unfollow(p('deployments.unfollow', raw).followId) }),
      'deployments.sample': async (raw) => this.deployments.sample(p('deployments.sample', raw).id),
      'deployments.watch': async (raw) => this.deployments.watch(p('deployments.watch', raw).id),
      'deployments.unwatch': async (raw) => ({ ok: await this.deployments.unwatch(p('deployments.unwatch', raw).watchId) }),
      'deployments.forward': async (raw) => {
        const { id, localPort } = p('deployments.forward', raw);
        return this.deployments.forward(id, localPort === undefined ? {} : { localPort });
      },
      'deployments.unforward': async (raw) => {
        const { id, localPort } = p('deployments.unforward', raw);
        return { closed: await this.deployments.unforward(id, localPort) };
      },
      'runs.list': async (raw) => this.runs.list(p('runs.list', raw) ?? {}),
      'runs.get': async (raw) => this.runs.get(p('runs.get', raw).id),
      'runs.series': async (raw) => this.runSeries.packed(await this.runs.get(p('runs.series', raw).id)),
      'runs.waterfall': async (raw) => {
        const { id, requestId } = p('runs.waterfall', raw);
        return this.runWaterfall.waterfall(await this.runs.get(id), requestId);
      },
      'runs.import': async (raw) => this.runs.import(p('runs.import', raw)),
      'runs.start': async (raw) => this.runs.start(p('runs.start', raw)),
      'runs.sweep': async (raw) => this.runs.sweep(p('runs.sweep', raw)),
      'runs.cancel': async (raw) => this.runs.cancel(p('runs.cancel', raw).id),
      'runs.delete': async (raw) => this.runs.delete(p('runs.delete', raw).id),
      'runs.compare': async (raw) => this.runs.compare(p('runs.compare', raw)),
      'reports.export': async (raw) => this.reports.export(p('reports.export', raw)),
      'reports.read': async (raw) => this.reports.read(p('reports.read', raw).path),
      'reports.history': async () => this.reports.historyList(),
      'reports.forget': async (raw) => ({ forgotten: await this.reports.history.forget(p('reports.forget', raw).id) }),
      'reports.open': async (raw) => this.reports.open(p('reports.open', raw)),
      'chat.start': async (raw) => this.chat.start(p('chat.start', raw)),
      'chat.stop': async (raw) => ({ stopped: this.chat.stop(p('chat.stop', raw).streamId) }),
      'conversations.list': async () => this.conversations.list(),
      'conversations.get': async (raw) => this.conversations.get(p('conversations.get', raw).id),
      'conversations.save': async (raw) => this.conversations.save(p('conversations.save', raw)),
      'conversations.delete': async (raw) => ({ deleted: await this.conversations.delete(p('conversations.delete', raw).id) }),
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
    // Chats first: their tunnels close with the deployments service.
    await this.chat.close();
    // First: a deploy task cancelled by closing leaves the deployment running on its hosts.
    await this.deployments.close();
    // Likewise a benchmark: it goes on on its host and is collected next time.
    await this.runs.close();
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
