import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { loadPointOf, type Comparison } from '../../../common/compare';
import { displayQuote } from '../../../common/deployment/display-quote';
import { formatCommand } from '../../../common/deployment/format-plan';
import type { DeploymentRecord } from '../../../common/deployment-view';
import { UserFacingError } from '../../../common/errors';
import type { HostStatus } from '../../../common/host';
import { ReportExportParams, reportSlug, type ReportData, type ReportExportResult, type ReportFile, type ReportHostNow, type ReportProcess, type ReportReadResult, type ReportRun } from '../../../common/report-model';
import { RequestRecord, type RunJson } from '../../../common/run-record';
import type { RunSeries } from '../../../common/run-series';
import type { RunDetail, RunSummary } from '../../../common/run-view';
import type { Task } from '../../../common/task';
import { HANDOFF_VERSION } from '../../../common/version';
import type { TaskContext, TaskRunner } from '../tasks/task-runner';
import { RUN_FILES, type LocalRunStore } from '../runs/local-run-store';
import { BUNDLE_SCHEMA, planRerun, rerunWorkload, type BundleManifest, type BundleRun } from './bundle-manifest';
import { redactExportText, redactForExport } from './export-redact';
import { writeBundle, sha256, type BundleEntry } from './report-bundle';
import { comparisonCsv, metricsCsv, requestsCsv, transfersCsv } from './report-csv';
import { NixlTransferRecord } from '../../../common/kv/nixl-transfer';
import { renderReportHtml } from './report-html';
import { REPORT_WATERFALL_CACHE_FILE, reportKvExtras, type ReportKvSources } from './report-kv';
import { chromiumPdfRenderer, type PdfRenderer } from './report-pdf';
import { ReportHistory } from './report-history';
import type { ReportHistoryList, ReportOpenParams } from '../../../common/report-history';

/**
 * reports.export: builds one ReportData for runs, a sweep or a comparison, and writes it as
 * HTML, PDF, CSV or a re-runnable bundle, as a Task with progress. Everything that leaves goes
 * through the export redaction (export-redact.ts) first.
 */

/** What the report service needs from the run service (RunService implements it). */
export interface ReportRuns {
  readonly store: LocalRunStore;
  list(opts?: { refresh?: boolean }): Promise<RunSummary[]>;
  get(ref: string): Promise<RunDetail>;
  compare(params: { a: string; b: string; gpuCountA?: number; gpuCountB?: number }): Promise<Comparison>;
}

export interface ReportServiceOptions extends ReportKvSources {
  home: string;
  runs: ReportRuns;
  /** runs.series for a run (the controller shares its cache). */
  series: (detail: RunDetail) => Promise<RunSeries>;
  deployments: { list(): Promise<DeploymentRecord[]> };
  hosts: { list(): Promise<HostStatus[]> };
  tasks: TaskRunner;
  /** Electron's printToPDF in the desktop app; headless Chromium otherwise. */
  pdf?: PdfRenderer;
  /** Opens an exported file or shows it in its folder (Electron's shell); absent in browser and CLI mode. */
  opener?: ReportOpener;
}

export interface ReportOpener {
  /** Resolves with an error text, empty on success (as Electron's shell.openPath). */
  open(file: string): Promise<string>;
  reveal(file: string): void;
}

/** A run of the report with what the file formats need besides the report data. */
interface LoadedRun {
  report: ReportRun;
  detail: RunDetail;
  /** run.json as stored (it may carry fields the schema does not know, such as workloadInput). */
  raw: unknown;
}

export interface CollectedReport {
  data: ReportData;
  loaded: LoadedRun[];
}

const MIME: Record<string, string> = { '.html': 'text/html', '.pdf': 'application/pdf', '.csv': 'text/csv', '.gz': 'application/gzip', '.json': 'application/json' };
const READ_MAX_BYTES = 256 * 1024 * 1024;
const DERIVED_FILES = new Set(['series.json', REPORT_WATERFALL_CACHE_FILE]);

const STAMP = () => new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').replace('T', '-');

export class ReportService {
  private readonly pdf: PdfRenderer;
  /** Files this controller exported: the only ones reports.read hands out. */
  private readonly exported = new Set<string>();
  readonly history: ReportHistory;

  constructor(private readonly opts: ReportServiceOptions) {
    this.pdf = opts.pdf ?? chromiumPdfRenderer();
    this.history = new ReportHistory(path.join(opts.home, 'reports'));
  }

  get reportsDir(): string {
    return path.join(this.opts.home, 'reports');
  }

  export(raw: unknown): Task {
    const parsed = ReportExportParams.safeParse(raw);
    if (!parsed.success) throw new UserFacingError('invalid-params', `reports.export: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ')}.`);
    const params = parsed.data;
    const what = params.compare ? `comparison ${params.compare[0]} vs ${params.compare[1]}` : params.sweepId ? `sweep ${params.sweepId}` : `run${params.runIds!.length > 1 ? 's' : ''} ${params.runIds!.join(', ')}`;
    const steps = [
      { id: 'load', label: 'Read the runs' },
      { id: 'render', label: params.format === 'csv' ? 'Write the CSV tables' : 'Build the report' },
      ...(params.format === 'pdf' ? [{ id: 'pdf', label: 'Print to PDF' }] : []),
      ...(params.format === 'bundle' ? [{ id: 'bundle', label: 'Pack the bundle' }] : []),
    ];
    return this.opts.tasks.start('report-export', `Export ${params.format.toUpperCase()} of ${what}`, steps, async (ctx) => {
      const result = await this.run(params, ctx);
      if (!ctx.signal.aborted) await this.remember(params, result, ctx);
      return result;
    });
  }

  /** reports.history: the exports made here, newest first. */
  async historyList(): Promise<ReportHistoryList> {
    const { entries, problem } = await this.history.list();
    return { entries, problem, canOpen: !!this.opts.opener, reportsDir: this.reportsDir };
  }

  /** reports.open: opens (or shows in its folder) a file this Handoff exported, in the desktop app. */
  async open(params: ReportOpenParams): Promise<{ ok: true }> {
    const abs = path.resolve(params.path);
    if (!this.opts.opener) throw new UserFacingError('open-unsupported', `Files can be opened from the desktop app only. Here, use Download, or open ${abs} on the computer that runs Handoff.`);
    if (!this.exported.has(abs) && !(await this.history.has(abs))) throw new UserFacingError('report-unknown', `${params.path} is not a report this Handoff exported; export it again.`);
    if (!(await fs.stat(abs).catch(() => null))) throw new UserFacingError('report-missing', `${abs} is gone (moved or deleted since it was exported); export it again.`);
    if (params.reveal) {
      this.opts.opener.reveal(abs);
      return { ok: true };
    }
    const problem = await this.opts.opener.open(abs);
    if (problem) throw new UserFacingError('report-open-failed', `Could not open ${abs}: ${problem}. Use "Show in folder" and open it with another program.`);
    return { ok: true };
  }

  /** Adds a finished export to the history; a history that cannot be written does not undo the export. */
  private async remember(params: ReportExportParams, result: ReportExportResult, ctx: TaskContext): Promise<void> {
    const kind = params.compare ? 'compare' : params.sweepId ? 'sweep' : 'runs';
    const source = params.compare ? { compare: params.compare } : params.sweepId ? { sweepId: params.sweepId } : { runIds: params.runIds! };
    try {
      await this.history.record({ format: result.format, title: result.title, kind, source, files: result.files, runIds: result.runIds, simulated: result.simulated });
    } catch (err) {
      ctx.step('render', 'done', `${result.files.map((f) => f.path).join(', ')} (not added to the export history: ${(err as Error).message})`);
    }
  }

  /** An exported file's bytes (browser UI downloads). Only files this controller wrote are served. */
  async read(file: string): Promise<ReportReadResult> {
    const abs = path.resolve(file);
    if (!this.exported.has(abs) && !(await this.history.has(abs).catch(() => false))) throw new UserFacingError('report-unknown', `${file} is not a report this Handoff exported; export it again.`);
    const st = await fs.stat(abs).catch(() => null);
    if (!st?.isFile()) throw new UserFacingError('report-missing', `${file} is gone (moved or deleted since it was exported); export it again.`);
    if (st.size > READ_MAX_BYTES) throw new UserFacingError('report-too-large', `${file} is ${Math.round(st.size / 1048576)} MiB, too large to hand to the browser; open it from ${path.dirname(abs)}.`);
    const data = await fs.readFile(abs);
    return { name: path.basename(abs), mimeType: MIME[path.extname(abs)] ?? 'application/octet-stream', bytes: data.length, dataBase64: data.toString('base64') };
  }

  private async run(params: ReportExportParams, ctx: TaskContext): Promise<ReportExportResult> {
    ctx.step('load', 'running');
    const collected = await this.collect(params, (done, total) => ctx.step('load', 'running', `${done}/${total} runs`, total ? done / total : undefined));
    ctx.step('load', 'done', `${collected.loaded.length} run${collected.loaded.length === 1 ? '' : 's'}`);
    ctx.throwIfCancelled();
    const { data, loaded } = collected;
    const slug = `${reportSlug(data.title)}-${STAMP()}`;
    const files: ReportFile[] = [];
    ctx.step('render', 'running');
    switch (params.format) {
      case 'html': {
        const out = await this.target(params.outPath, `${slug}.html`);
        files.push(await this.writeFile(out, redactExportText(renderReportHtml(data))));
        break;
      }
      case 'pdf': {
        const html = redactExportText(renderReportHtml(data));
        ctx.step('render', 'done');
        ctx.step('pdf', 'running');
        const pdf = await this.pdf(html, ctx.signal);
        const out = await this.target(params.outPath, `${slug}.pdf`);
        files.push(await this.writeFile(out, pdf));
        ctx.step('pdf', 'done');
        break;
      }
      case 'csv': {
        const dir = params.outPath ? path.resolve(params.outPath) : path.join(this.reportsDir, slug);
        const st = await fs.stat(dir).catch(() => null);
        if (st && !st.isDirectory()) throw new UserFacingError('report-out-not-dir', `${dir} is a file; CSV export writes requests.csv and metrics.csv into a folder. Give a folder with --out.`);
        await fs.mkdir(dir, { recursive: true });
        const requests = await Promise.all(loaded.map(async (l) => ({ runId: l.report.run.id, streaming: l.report.run.workload.streaming ?? true, records: await this.records(l) })));
        ctx.throwIfCancelled();
        files.push(await this.writeFile(path.join(dir, 'requests.csv'), redactExportText(requestsCsv(requests))));
        files.push(
          await this.writeFile(
            path.join(dir, 'metrics.csv'),
            redactExportText(metricsCsv(data.runs.map((r) => ({ runId: r.run.id, runName: r.run.name ?? null, gpuCount: r.run.deployment?.gpuCount || null, metrics: r.metrics })))),
          ),
        );
        if (data.comparison) files.push(await this.writeFile(path.join(dir, 'comparison.csv'), redactExportText(comparisonCsv(data.comparison))));
        const transfers = await Promise.all(loaded.map(async (l) => ({ runId: l.report.run.id, transfers: await this.opts.runs.store.readJsonl(l.report.run.id, RUN_FILES.transfers, NixlTransferRecord) })));
        if (transfers.some((t) => t.transfers.length)) files.push(await this.writeFile(path.join(dir, 'transfers.csv'), redactExportText(transfersCsv(transfers))));
        break;
      }
      case 'bundle': {
        const html = redactExportText(renderReportHtml(data));
        ctx.step('render', 'done');
        ctx.step('bundle', 'running');
        const entries = await this.bundleEntries(data, loaded, html, (done, total) => ctx.step('bundle', 'running', `${done}/${total} runs`, done / total));
        ctx.throwIfCancelled();
        const out = await this.target(params.outPath, `${slug}.tar.gz`);
        const bytes = await writeBundle(out, entries);
        this.exported.add(out);
        files.push({ path: out, bytes });
        ctx.step('bundle', 'done', `${entries.length} files`);
        break;
      }
    }
    ctx.step('render', 'done', files.map((f) => f.path).join(', '));
    return { format: params.format, title: data.title, files, runIds: data.runs.map((r) => r.run.id), simulated: data.runs.some((r) => r.run.simulated) };
  }

  /** Reads the runs named by the params and assembles the (redacted) report data. */
  async collect(params: ReportExportParams, progress: (done: number, total: number) => void = () => undefined): Promise<CollectedReport> {
    let ids: string[];
    let comparison: Comparison | null = null;
    let sides: ReportData['sides'] = null;
    let kind: ReportData['kind'];
    const details = new Map<string, RunDetail>();
    if (params.compare) {
      kind = 'compare';
      comparison = await this.opts.runs.compare({ a: params.compare[0], b: params.compare[1], ...(params.gpuCountA ? { gpuCountA: params.gpuCountA } : {}), ...(params.gpuCountB ? { gpuCountB: params.gpuCountB } : {}) });
      sides = comparison.kind === 'runs' ? { a: [comparison.a.id], b: [comparison.b.id] } : { a: comparison.a.runs.map((r) => r.id), b: comparison.b.runs.map((r) => r.id) };
      ids = [...sides.a, ...sides.b];
    } else if (params.sweepId) {
      kind = 'sweep';
      const list = await this.opts.runs.list();
      const groups = [...new Set(list.map((r) => r.group).filter((g): g is string => !!g && (g === params.sweepId || g.startsWith(params.sweepId!))))];
      const group = groups.includes(params.sweepId) ? params.sweepId : groups.length === 1 ? groups[0]! : null;
      if (!group) {
        throw groups.length > 1
          ? new UserFacingError('ambiguous-run', `"${params.sweepId}" matches several sweeps (${groups.slice(0, 8).join(', ')}); give more of the id.`)
          : new UserFacingError('unknown-run', `There is no sweep "${params.sweepId}". List runs and their sweeps with "handoff runs".`);
      }
      ids = list
        .filter((r) => r.group === group)
        .sort((a, b) => (a.workload.concurrency ?? a.workload.requestRate ?? 0) - (b.workload.concurrency ?? b.workload.requestRate ?? 0) || a.createdAt.localeCompare(b.createdAt))
        .map((r) => r.id);
    } else {
      kind = 'runs';
      ids = [];
      for (const ref of params.runIds!) {
        const d = await this.opts.runs.get(ref);
        if (ids.includes(d.summary.id)) continue;
        ids.push(d.summary.id);
        details.set(d.summary.id, d);
      }
    }
    const [deployments, hosts] = await Promise.all([this.opts.deployments.list().catch(() => [] as DeploymentRecord[]), this.opts.hosts.list().catch(() => [] as HostStatus[])]);
    const loaded: LoadedRun[] = [];
    for (const [i, id] of ids.entries()) {
      progress(i, ids.length);
      loaded.push(await this.loadRun(details.get(id) ?? (await this.opts.runs.get(id)), deployments, hosts));
    }
    progress(ids.length, ids.length);
    const runs = loaded.map((l) => l.report);
    const title = params.title ?? defaultTitle(kind, runs, comparison);
    const data: ReportData = redactForExport({ kind, title, generatedAt: new Date().toISOString(), handoffVersion: HANDOFF_VERSION, runs, comparison, sides });
    // The file formats read from `loaded`: give them the redacted runs too.
    loaded.forEach((l, i) => (l.report = data.runs[i]!));
    return { data, loaded };
  }

  private async loadRun(detail: RunDetail, deployments: readonly DeploymentRecord[], hosts: readonly HostStatus[]): Promise<LoadedRun> {
    const id = detail.summary.id;
    if (!detail.run || !detail.dir) {
      if (detail.summary.location === 'host') throw new UserFacingError('run-not-collected', `Run ${id} is still on ${detail.summary.host ?? 'its host'} (running or not collected yet); export it once it is listed as complete by "handoff runs".`);
      throw new UserFacingError('run-damaged', detail.summary.problem ?? `Run ${id} is damaged and cannot be exported.`);
    }
    const run = detail.run;
    const series = await this.opts.series(detail).catch(() => null);
    const raw = JSON.parse(await fs.readFile(path.join(detail.dir, RUN_FILES.runJson), 'utf8')) as unknown;
    const { processes, note } = processesOf(run, deployments);
    const kv = await reportKvExtras(run, detail, series, this.opts);
    return {
      detail,
      raw,
      report: {
        run,
        metrics: detail.metrics,
        metricsSource: detail.metricsSource,
        series,
        importInfo: detail.import,
        processes,
        processesNote: note,
        hostsNow: hostsNowOf(run, hosts),
        benchCommand: benchCommandOf(run),
        ...kv,
      },
    };
  }

  private async records(l: LoadedRun): Promise<RequestRecord[]> {
    return this.opts.runs.store.readJsonl(l.report.run.id, RUN_FILES.requests, RequestRecord);
  }

  private async bundleEntries(data: ReportData, loaded: readonly LoadedRun[], html: string, progress: (done: number, total: number) => void): Promise<BundleEntry[]> {
    const entries: BundleEntry[] = [{ path: 'report.html', data: html }];
    const left: string[] = [];
    const bundleRuns: BundleRun[] = [];
    for (const [i, l] of loaded.entries()) {
      progress(i, loaded.length);
      const run = l.report.run;
      const dir = `runs/${run.id}`;
      for (const f of l.detail.files) {
        // Derived caches (the run view's packed chart data) are rebuilt from the records on demand.
        if (DERIVED_FILES.has(f.path)) continue;
        const abs = path.join(l.detail.dir!, ...f.path.split('/'));
        if (f.path === RUN_FILES.runJson) {
          entries.push({ path: `${dir}/${f.path}`, data: redactExportText(JSON.stringify(redactForExport(l.raw), null, 2) + '\n') });
          continue;
        }
        const buf = await fs.readFile(abs);
        // Binary files cannot be checked for secrets, so they stay out (and the manifest says so).
        if (buf.includes(0)) {
          left.push(`${dir}/${f.path}`);
          continue;
        }
        entries.push({ path: `${dir}/${f.path}`, data: redactExportText(buf.toString('utf8')) });
      }
      const { workload, note } = rerunWorkload(run, l.raw);
      bundleRuns.push({
        id: run.id,
        name: run.name ?? null,
        group: run.group ?? null,
        dir,
        status: run.status,
        simulated: run.simulated,
        imported: run.imported,
        tool: run.tool.name,
        toolVersion: run.tool.version,
        deployment: run.deployment,
        ...(run.spec !== undefined ? { spec: run.spec } : {}),
        recordedWorkload: run.workload,
        workload,
        workloadNote: note,
      });
    }
    progress(loaded.length, loaded.length);
    const specs = new Map(bundleRuns.filter((r) => r.spec !== undefined && r.spec !== null).map((r) => [JSON.stringify(r.spec), r.spec]));
    const deploymentSpecFile = specs.size === 1 ? 'deployment.yaml' : null;
    if (deploymentSpecFile) {
      const spec = [...specs.values()][0];
      entries.push({ path: deploymentSpecFile, data: redactExportText(`# The deployment these runs measured (secrets are [redacted]: fill them in before deploying).\n${YAML.stringify(spec, { lineWidth: 0 })}`) });
    }
    const { plan, note } = planRerun(bundleRuns, data.title);
    const files = entries.map((e) => ({ path: e.path, bytes: Buffer.byteLength(e.data), sha256: sha256(e.data) }));
    const manifest: BundleManifest = {
      schema: BUNDLE_SCHEMA,
      createdAt: data.generatedAt,
      handoffVersion: HANDOFF_VERSION,
      kind: data.kind,
      title: data.title,
      report: 'report.html',
      deploymentSpecFile,
      runs: bundleRuns,
      rerun: plan,
      rerunNote: [note, left.length ? `Left out (binary files cannot be checked for secrets): ${left.join(', ')}.` : null].filter(Boolean).join(' ') || null,
      files,
    };
    entries.push({ path: 'manifest.json', data: redactExportText(JSON.stringify(redactForExport(manifest), null, 2) + '\n') });
    return entries;
  }

  /** A file path for html/pdf/bundle: the given one (a folder gets the default name inside it), else under $HANDOFF_HOME/reports/. */
  private async target(outPath: string | undefined, defaultName: string): Promise<string> {
    if (!outPath) return path.join(this.reportsDir, defaultName);
    const abs = path.resolve(outPath);
    const st = await fs.stat(abs).catch(() => null);
    if (st?.isDirectory()) return path.join(abs, defaultName);
    return abs;
  }

  private async writeFile(file: string, data: string | Buffer): Promise<ReportFile> {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${crypto.randomBytes(3).toString('hex')}.tmp`;
    try {
      await fs.writeFile(tmp, data, { mode: 0o600 });
      await fs.rename(tmp, file);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EROFS' || code === 'ENOTDIR') throw new UserFacingError('report-write-failed', `Cannot write ${file} (${code}); choose another place with --out.`);
      throw err;
    }
    this.exported.add(file);
    return { path: file, bytes: Buffer.byteLength(data) };
  }
}

function labelOf(r: ReportRun): string {
  return r.run.name ?? r.run.deployment?.name ?? r.run.id;
}

function defaultTitle(kind: ReportData['kind'], runs: readonly ReportRun[], c: Comparison | null): string {
  if (kind === 'compare' && c) return `Comparison: ${c.a.label} vs ${c.b.label}`;
  if (kind === 'sweep') {
    const first = runs[0];
    const loads = runs.map((r) => r.run.workload.concurrency ?? r.run.workload.requestRate).filter((x) => x != null);
    const byRate = runs.some((r) => r.run.workload.requestRate != null);
    return `Sweep: ${first?.run.deployment?.name ?? first?.run.group ?? 'runs'} over ${byRate ? 'request rate' : 'concurrency'} ${loads.join(', ')}`;
  }
  if (runs.length === 1) {
    const r = runs[0]!;
    const lp = loadPointOf(r.run.workload);
    return `Benchmark: ${labelOf(r)}${lp && !labelOf(r).includes(lp) ? ` · ${lp}` : ''}`;
  }
  return `Benchmarks: ${runs.length} runs`;
}

/** The plan's processes of the deployment the run measured, when its record is still here. */
function processesOf(run: RunJson, deployments: readonly DeploymentRecord[]): { processes: ReportProcess[] | null; note: string | null } {
  if (!run.deployment) return { processes: null, note: run.imported ? 'Imported run: the deployment and its commands were not recorded.' : null };
  const specText = JSON.stringify(run.spec ?? null);
  const candidates = deployments
    .filter((d) => d.name === run.deployment!.name && (run.spec === undefined || JSON.stringify(d.spec) === specText))
    .filter((d) => d.createdAt <= (run.timings.startedAt ?? run.timings.createdAt))
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const d = candidates[0];
  if (!d) return { processes: null, note: `The commands are not shown: the record of deployment "${run.deployment.name}" as it was applied is no longer on this computer. The spec above is what was applied.` };
  return {
    processes: d.plan.processes.map((p) => ({ name: p.name, role: p.role, host: p.host, gpuIds: p.gpuIds, tp: p.tp, command: [...(p.cwd ? [`cd ${displayQuote(p.cwd)}`] : []), ...formatCommand(p.env, p.argv, p.cpus)] })),
    note: null,
  };
}

function hostsNowOf(run: RunJson, hosts: readonly HostStatus[]): ReportHostNow[] {
  const out: ReportHostNow[] = [];
  for (const h of run.hosts) {
    const info = hosts.find((s) => s.config.name === h.name)?.info;
    if (!info) continue;
    const versions: Record<string, string> = {};
    versions['handoff agent'] = info.agentVersion;
    versions.os = info.os.prettyName ?? `${info.os.platform} ${info.os.release}`;
    versions.kernel = info.kernel;
    if (info.nvidiaSmi.version) versions['nvidia-smi'] = info.nvidiaSmi.version;
    if (info.nvcc.version) versions.nvcc = info.nvcc.version;
    versions.ucx = info.ucx.found ? (info.ucx.version ?? 'found, version unknown') : 'not found';
    for (const py of info.pythons) {
      versions[`python (${py.path})`] = py.version;
      for (const [pkg, v] of Object.entries(py.packages)) if (v) versions[`${pkg} (${py.path})`] = v;
    }
    out.push({
      name: h.name,
      collectedAt: info.collectedAt,
      gpus: info.gpus.map((g) => ({ index: g.index, name: g.name, memoryTotalMiB: g.memoryTotalMiB ?? null })),
      driverVersion: info.driverVersion,
      cudaVersion: info.cudaVersion,
      topology: info.topology?.raw ?? null,
      versions,
    });
  }
  return out;
}

/** The command that runs the same workload: the external tool's argv, or the equivalent `handoff bench`. */
export function benchCommandOf(run: RunJson): string[] {
  if (run.tool.name !== 'builtin' && run.tool.argv?.length) return formatCommand({}, run.tool.argv);
  if (run.tool.name !== 'builtin' && run.imported) return [`# Imported from ${run.tool.name}; the command was not recorded.`];
  const w = run.workload;
  const argv = ['handoff', 'bench', run.deployment?.name ?? 'DEPLOYMENT'];
  if (run.tool.name !== 'builtin') argv.push('--tool', run.tool.name);
  if (w.endpointType) argv.push('--endpoint', w.endpointType);
  if (w.streaming === false) argv.push('--no-streaming');
  if (w.islMean != null) argv.push('--isl', String(w.islMean));
  if (w.islStddev) argv.push('--isl-stddev', String(w.islStddev));
  if (w.oslMean != null) argv.push('--osl', String(Math.round(w.oslMean)));
  if (w.requestRate != null) argv.push('--rate', String(w.requestRate));
  if (w.concurrency != null) argv.push('--concurrency', String(w.concurrency));
  if (w.requestCount != null) argv.push('--requests', String(w.requestCount));
  else if (w.durationS != null) argv.push('--duration', String(w.durationS));
  if (w.warmupRequestCount) argv.push('--warmup', String(w.warmupRequestCount));
  if (w.randomSeed != null) argv.push('--seed', String(w.randomSeed));
  if (w.goodput && Object.keys(w.goodput).length) argv.push('--goodput', Object.entries(w.goodput).map(([k, v]) => `${k}:${v}`).join(' '));
  return [...formatCommand({}, argv), '# or, from an exported bundle: handoff rerun BUNDLE.tar.gz DEPLOYMENT'];
}
