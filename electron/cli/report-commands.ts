import type { Command } from 'commander';
import { UserFacingError } from '../../common/errors';
import { ReportExportResult, ReportFormat } from '../../common/report-model';
import { BenchTaskResult, type StartRunParams, type SweepParams } from '../../common/run-view';
import type { Task } from '../../common/task';
import { readBundleManifest } from '../control/reports/report-bundle';
import type { BundleManifest } from '../control/reports/bundle-manifest';
import { planRerun } from '../control/reports/bundle-manifest';
import { withController, type CliController } from './cli-controller';
import { followWithCancel } from './follow-task';

/**
 * `handoff report RUN... --format html|pdf|csv|bundle --out PATH` and
 * `handoff rerun BUNDLE DEPLOYMENT` (docs/reports.md).
 */

interface ReportFlags {
  format: string;
  out?: string;
  compare?: boolean;
  sweep?: boolean;
  title?: string;
  json?: boolean;
}

export function registerReportCommands(program: Command): void {
  program
    .command('report')
    .argument('<runs...>', 'run ids (or unique prefixes); with --sweep one sweep id; with --compare two runs or two sweeps')
    .requiredOption('--format <format>', 'html, pdf, csv or bundle')
    .option('--out <path>', 'file to write (a folder for csv); default: a new file under $HANDOFF_HOME/reports/')
    .option('--compare', 'compare the two runs (or sweeps) given: verdict, deltas and both sides')
    .option('--sweep', 'the one id given is a sweep: throughput against load, Pareto, every run')
    .option('--title <title>', 'the report title')
    .option('--json', 'print the result as JSON')
    .description('Export runs, a sweep or a comparison: self-contained HTML, PDF, CSV tables, or a .tar.gz bundle that "handoff rerun" repeats. Secrets are redacted')
    .action(async (refs: string[], opts: ReportFlags) => {
      const format = ReportFormat.safeParse(opts.format);
      if (!format.success) throw new UserFacingError('usage', `--format must be html, pdf, csv or bundle, not "${opts.format}".`);
      if (opts.compare && opts.sweep) throw new UserFacingError('usage', 'Give --compare or --sweep, not both.');
      if (opts.compare && refs.length !== 2) throw new UserFacingError('usage', `--compare needs exactly two runs or two sweeps; ${refs.length} given.`);
      if (opts.sweep && refs.length !== 1) throw new UserFacingError('usage', `--sweep takes one sweep id; ${refs.length} given.`);
      const target = opts.compare ? { compare: [refs[0]!, refs[1]!] as [string, string] } : opts.sweep ? { sweepId: refs[0]! } : { runIds: refs };
      await withController(async (c) => {
        const task = await c.call('reports.export', { ...target, format: format.data, ...(opts.out ? { outPath: opts.out } : {}), ...(opts.title ? { title: opts.title } : {}) });
        const final = await follow(c, task, !!opts.json);
        const r = ReportExportResult.parse(final.result);
        if (opts.json) {
          process.stdout.write(JSON.stringify(r, null, 2) + '\n');
          return;
        }
        for (const f of r.files) process.stdout.write(`${f.path}\n`);
        process.stderr.write(`${r.title}: ${r.files.length} file${r.files.length === 1 ? '' : 's'}, ${r.files.map((f) => humanBytes(f.bytes)).join(' + ')}${r.simulated ? ' (simulated engine)' : ''}\n`);
        if (r.format === 'bundle') process.stderr.write(`Repeat it on a deployment: handoff rerun ${r.files[0]!.path} DEPLOYMENT\n`);
      });
    });

  program
    .command('rerun')
    .argument('<bundle>', 'a .tar.gz bundle from "handoff report --format bundle" (or its unpacked folder, or its manifest.json)')
    .argument('<deployment>', 'deployment id, unique id prefix, or name to run it on')
    .option('--run <id>', 'repeat only this run of the bundle')
    .option('--name <name>', 'a name for the new run (or sweep)')
    .option('--dry-run', 'print what would be started and start nothing')
    .option('--json', 'print the result as JSON')
    .description('Run the benchmark of an exported bundle again, with the same workload, tool and load points, on a deployment')
    .action(async (bundle: string, deployment: string, opts: { run?: string; name?: string; dryRun?: boolean; json?: boolean }) => {
      const manifest = await readBundleManifest(bundle);
      const request = rerunRequest(manifest, deployment, opts);
      if (opts.dryRun) {
        process.stdout.write(JSON.stringify(request, null, 2) + '\n');
        return;
      }
      await withController(async (c) => {
        const started = request.method === 'runs.sweep' ? await c.call('runs.sweep', request.params as SweepParams) : await c.call('runs.start', request.params);
        if (!opts.json) process.stderr.write(`${started.task.title}: ${started.group ? `sweep ${started.group}, ` : ''}run${started.runIds.length > 1 ? 's' : ''} ${started.runIds.join(', ')} (repeating ${request.repeats.join(', ')})\n`);
        const final = await follow(c, started.task, !!opts.json, true);
        const r = BenchTaskResult.parse(final.result);
        if (opts.json) {
          process.stdout.write(JSON.stringify({ ok: true, repeats: request.repeats, ...r }, null, 2) + '\n');
          return;
        }
        for (const id of r.runIds) process.stdout.write(`${id}\n`);
        process.stderr.write(`Report it: handoff report ${r.runIds.join(' ')} --format html${r.group ? ` (or the sweep: handoff report --sweep ${r.group} --format html)` : ''}\n`);
      });
    });
}

export interface RerunRequest {
  method: 'runs.start' | 'runs.sweep';
  params: StartRunParams | SweepParams;
  /** The bundle's runs it repeats. */
  repeats: string[];
}

/** runs.start or runs.sweep parameters that repeat a bundle's benchmark on a deployment. */
export function rerunRequest(manifest: BundleManifest, deployment: string, opts: { run?: string; name?: string } = {}): RerunRequest {
  let plan = manifest.rerun;
  let note = manifest.rerunNote;
  if (opts.run) {
    const one = manifest.runs.find((r) => r.id === opts.run || r.id.startsWith(opts.run!));
    if (!one) throw new UserFacingError('usage', `The bundle has no run "${opts.run}"; it has ${manifest.runs.map((r) => r.id).join(', ')}.`);
    ({ plan, note } = planRerun([one], one.name ?? one.id));
  }
  if (!plan) throw new UserFacingError('bundle-not-rerunnable', `This bundle cannot be re-run as one benchmark: ${note ?? 'no run has a workload Handoff can start'}`);
  const base = { deployment, workload: plan.workload, tool: plan.tool, ...(opts.name ? { name: opts.name } : plan.name ? { name: `${plan.name} (re-run)`.slice(0, 200) } : {}) };
  if (plan.concurrencies) return { method: 'runs.sweep', params: { ...base, concurrencies: plan.concurrencies }, repeats: plan.runIds };
  if (plan.requestRates) return { method: 'runs.sweep', params: { ...base, requestRates: plan.requestRates }, repeats: plan.runIds };
  return { method: 'runs.start', params: base, repeats: plan.runIds };
}

async function follow(c: CliController, task: Task, json: boolean, cancelOnSignal = false): Promise<Task> {
  const final = await followWithCancel(c, task, { json, cancelMessage: cancelOnSignal ? 'Stopping the run; keeping what it recorded…' : 'Cancelling…' });
  if (final.state !== 'succeeded') {
    const err = final.error ?? { code: 'internal', message: `${task.title} did not finish.` };
    throw new UserFacingError(err.code, err.message);
  }
  return final;
}

function humanBytes(n: number): string {
  return n >= 1048576 ? `${(n / 1048576).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(0)} KiB` : `${n} B`;
}
