import fs from 'node:fs/promises';
import type { Command } from 'commander';
import { z } from 'zod';
import type { ApiResult } from '../../common/api-contract';
import { formatProblems, Problem } from '../../common/deployment';
import { DeployTaskResult, type DeploymentSummary, type DeploymentView } from '../../common/deployment-view';
import { UserFacingError } from '../../common/errors';
import { Task } from '../../common/task';
import { withController, type CliController } from './cli-controller';
import { followWithCancel } from './follow-task';

/**
 * `handoff deploy | deployments | status | logs | down | forward`. Each runs an in-process
 * controller; the deployments themselves live on the hosts' agents and outlive the command.
 */
export function registerDeployCommands(program: Command): void {
  program
    .command('deploy')
    .argument('<spec>', 'deployment spec file (YAML or JSON, see docs/deployment-spec.md)')
    .option('--dry-run', 'validate and print the plan (commands and environment); start nothing')
    .option('--json', 'print the result as JSON')
    .description('Start a deployment and wait until every process is ready; prints its id and endpoint')
    .action(async (file: string, opts: { dryRun?: boolean; json?: boolean }) => {
      const specText = await readSpec(file);
      await withController(async (c) => {
        const offPrompts = refuseHostPrompts(c);
        try {
          if (opts.dryRun) await dryRun(c, specText, file, !!opts.json);
          else await deploy(c, specText, file, !!opts.json);
        } finally {
          offPrompts();
        }
      });
    });

  program
    .command('deployments')
    .option('--json', 'print JSON')
    .option('--cached', 'show the last known states without asking the hosts')
    .description('List deployments with their current state')
    .action(async (opts: { json?: boolean; cached?: boolean }) => {
      await withController(async (c) => {
        const list = await c.call('deployments.list', { refresh: !opts.cached });
        if (opts.json) return printJson(list);
        printDeploymentTable(list);
      });
    });

  program
    .command('status')
    .argument('<id>', 'deployment id, unique id prefix, or name')
    .option('--json', 'print JSON')
    .description('Show every process of a deployment: state, pid, port, exit code, last log lines of crashed ones')
    .action(async (id: string, opts: { json?: boolean }) => {
      await withController(async (c) => {
        const view = await c.call('deployments.status', { id });
        if (opts.json) return printJson(view);
        printStatus(view);
      });
    });

  program
    .command('logs')
    .argument('<id>', 'deployment id, unique id prefix, or name')
    .option('--worker <name>', 'one process (decode-0, router) or worker group (decode)')
    .option('-n, --lines <n>', 'lines to show from the end of each log', parseCount, 100)
    .option('-f, --follow', 'keep printing new lines until Ctrl-C')
    .description('Print the logs of a deployment’s processes')
    .action(async (id: string, opts: { worker?: string; lines: number; follow?: boolean }) => {
      await withController(async (c) => {
        const sel = { ...(opts.worker ? { process: opts.worker } : {}), lines: opts.lines };
        if (!opts.follow) {
          const r = await c.call('deployments.logs', { id, ...sel });
          printLogs(r.logs);
          return;
        }
        let multi = false;
        const f = await c.controller.deployments.followLogs(
          id,
          sel,
          (l) => process.stdout.write(`${multi ? `[${l.process}] ` : ''}${l.line}\n`),
          (host, why) => process.stderr.write(`handoff: lost the connection to ${host} (${why}); reconnecting — lines written meanwhile are skipped.\n`),
        );
        multi = f.logs.length > 1;
        printLogs(f.logs);
        await untilInterrupted();
        f.stop();
      });
    });

  program
    .command('down')
    .argument('<id>', 'deployment id, unique id prefix, or name')
    .option('--json', 'print JSON')
    .description('Stop every process of a deployment on every host (SIGTERM, then SIGKILL after a grace period)')
    .action(async (id: string, opts: { json?: boolean }) => {
      await withController(async (c) => {
        const r = await c.call('deployments.teardown', { id });
        if (opts.json) return printJson(r);
        const killed = r.hosts.flatMap((h) => h.killed.map((k) => `${k} on ${h.host}`));
        process.stdout.write(`Stopped ${r.id}.${killed.length ? ` Needed SIGKILL: ${killed.join(', ')}.` : ''}\n`);
      });
    });

  program
    .command('forward')
    .argument('<id>', 'deployment id, unique id prefix, or name')
    .option('--port <n>', 'local port (default: a free one)', parsePort)
    .description('Reach a deployment’s endpoint from this computer through SSH; runs until Ctrl-C')
    .action(async (id: string, opts: { port?: number }) => {
      await withController(async (c) => {
        const f = await c.call('deployments.forward', { id, ...(opts.port !== undefined ? { localPort: opts.port } : {}) });
        process.stdout.write(`${f.url}\n`);
        process.stderr.write(`Forwarding 127.0.0.1:${f.localPort} → router ${f.remote} on ${f.host}. Try: curl ${f.url}/models — Ctrl-C to stop.\n`);
        await untilInterrupted();
      });
    });
}

async function readSpec(file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserFacingError('spec-unreadable', `Cannot read ${file}${code === 'ENOENT' ? ': no such file' : `: ${(err as Error).message}`}. Give the path of a YAML or JSON deployment spec (examples/ has some).`);
  }
}

async function dryRun(c: CliController, specText: string, source: string, json: boolean): Promise<void> {
  const outcome = await c.call('deployments.plan', { specText, source });
  for (const n of outcome.notes) process.stderr.write(`note: ${n}\n`);
  if (json) printJson(outcome);
  if (!outcome.ok) return failWithProblems(outcome.problems, source, json);
  if (!json) {
    printWarnings(outcome.problems, source);
    process.stdout.write(`${outcome.text}\n`);
    process.stderr.write(`Dry run: nothing was started.\n`);
  }
}

async function deploy(c: CliController, specText: string, source: string, json: boolean): Promise<void> {
  let started: ApiResult<'deployments.apply'>;
  try {
    started = await c.call('deployments.apply', { specText, source });
  } catch (err) {
    const problems = err instanceof UserFacingError && err.code === 'spec-invalid' ? z.object({ problems: z.array(Problem) }).safeParse(err.details) : null;
    if (problems?.success) {
      if (json) printJson({ ok: false, problems: problems.data.problems });
      return failWithProblems(problems.data.problems, source, json);
    }
    throw err;
  }
  if (!json) printWarnings(started.warnings, source);
  const { deployment, task } = started;
  process.stderr.write(`Deploying ${deployment.id}${deployment.simulated ? ' (simulated: engine mocker)' : ''} on ${deployment.hosts.join(', ')}…\n`);
  const final = await followWithCancel(c, task, { json, cancelMessage: 'Cancelling: stopping what was started…' });
  if (final.state !== 'succeeded') {
    const err = final.error ?? { code: 'internal', message: 'The deployment did not finish.' };
    if (json) printJson({ ok: false, id: deployment.id, error: err });
    throw new UserFacingError(err.code, err.message);
  }
  const r = DeployTaskResult.parse(final.result);
  if (json) return printJson({ ok: true, ...r });
  process.stdout.write(`${r.id}\n${r.endpoint.openaiBaseUrl}\n`);
  process.stderr.write(
    `Ready in ${(r.readyMs / 1000).toFixed(1)} s${r.simulated ? ' (simulated)' : ''}: model "${r.endpoint.model}" at ${r.endpoint.openaiBaseUrl} on ${r.endpoint.host}.\n` +
      `Reach it from this computer with "handoff forward ${r.id}"; stop it with "handoff down ${r.id}".\n`,
  );
}

function failWithProblems(problems: readonly Problem[], source: string, json: boolean): void {
  if (!json) process.stderr.write(formatProblems(problems, source) + '\n');
  process.exitCode = 1;
}

function printWarnings(problems: readonly Problem[], source: string): void {
  const warnings = problems.filter((p) => p.severity === 'warning');
  if (warnings.length) process.stderr.write(formatProblems(warnings, source) + '\n');
}

/** Host checks started while planning (a host never checked) cannot ask a question here: refuse, and say how to answer it. */
function refuseHostPrompts(c: CliController): () => void {
  const answered = new Set<string>();
  return c.controller.subscribe((env) => {
    if (env.event !== 'task.updated') return;
    const t = Task.safeParse(env.data);
    if (!t.success || t.data.kind !== 'host-check' || t.data.state !== 'needs-input' || !t.data.prompt || answered.has(t.data.id)) return;
    answered.add(t.data.id);
    const host = /"([^"]+)"$/.exec(t.data.title)?.[1] ?? 'the host';
    process.stderr.write(`${t.data.title} needs an answer; run "handoff hosts check ${host}${t.data.prompt.kind === 'trust-host-key' ? ' --trust-host-key' : ''}" first.\n`);
    const answer = t.data.prompt.kind === 'trust-host-key' ? { kind: 'trust-host-key' as const, trust: false } : { kind: 'passphrase' as const, passphrase: null };
    void c.call('tasks.answer', { id: t.data.id, answer }).catch(() => undefined);
  });
}

function untilInterrupted(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}

function printJson(v: unknown): void {
  process.stdout.write(JSON.stringify(v, null, 2) + '\n');
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [fmt(header), ...rows.map(fmt)].join('\n') + '\n';
}

const engineLabel = (d: Pick<DeploymentSummary, 'engine' | 'simulated'>) => (d.simulated ? `${d.engine} (simulated)` : d.engine);

function printDeploymentTable(list: DeploymentSummary[]): void {
  if (!list.length) {
    process.stdout.write('No deployments. Start one with "handoff deploy SPEC" (examples/ has specs).\n');
    return;
  }
  const rows = [...list]
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    .map((d) => [d.id, d.state, engineLabel(d), d.mode, d.hosts.join(','), d.state === 'stopped' ? '-' : d.endpoint.openaiBaseUrl, d.createdAt.replace(/\.\d+Z$/, 'Z')]);
  process.stdout.write(table(['ID', 'STATE', 'ENGINE', 'MODE', 'HOSTS', 'ENDPOINT (on its host)', 'CREATED'], rows));
  for (const d of list) if (d.error && d.state !== 'ready' && d.state !== 'stopped') process.stdout.write(`  ${d.id}: ${d.error.split('\n')[0]}\n`);
}

const BAD_STATES = new Set(['crashed', 'failed', 'exited']);

function printStatus(v: DeploymentView): void {
  process.stdout.write(`${v.id}  ${v.state}  ${engineLabel(v)} · ${v.mode} · model "${v.model}"\n`);
  process.stdout.write(`Endpoint: ${v.endpoint.openaiBaseUrl} on ${v.endpoint.host}${v.state === 'stopped' ? '' : ` (handoff forward ${v.id})`}\n`);
  if (v.error && v.state !== 'ready') process.stdout.write(`Problem: ${v.error.split('\n')[0]}\n`);
  for (const u of v.unreachable) process.stdout.write(`Unreachable: ${u.host}: ${u.message}\n`);
  process.stdout.write('\n');
  const rows = v.processes.map((p) => [
    p.name,
    p.host,
    p.role,
    p.state,
    p.pid === null ? '-' : String(p.pid),
    String(p.port),
    p.exitCode !== null ? String(p.exitCode) : p.signal ?? (p.exitedAt && !p.exitKnown ? '?' : '-'),
    String(p.restarts),
    p.gpuIds.length ? p.gpuIds.join(',') : '-',
  ]);
  process.stdout.write(table(['PROCESS', 'HOST', 'ROLE', 'STATE', 'PID', 'PORT', 'EXIT', 'RESTARTS', 'GPUS'], rows));
  for (const p of v.processes) {
    if (!BAD_STATES.has(p.state) && !(p.state === 'restarting' && p.lastLogLines.length)) continue;
    process.stdout.write(`\n${p.name} ${p.state}${p.detail ? `: ${p.detail}` : ''}\n`);
    if (p.lastLogLines.length) {
      process.stdout.write(`last log lines (${p.logFile} on ${p.host}):\n`);
      for (const l of p.lastLogLines.slice(-20)) process.stdout.write(`  ${l}\n`);
    }
  }
}

function printLogs(logs: Array<{ process: string; host: string; file: string; lines: string[] }>): void {
  const many = logs.length > 1;
  logs.forEach((l, i) => {
    if (many) process.stdout.write(`${i ? '\n' : ''}==> ${l.process} on ${l.host} (${l.file}) <==\n`);
    for (const line of l.lines) process.stdout.write(`${line}\n`);
  });
}

function parseCount(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 10_000) throw new UserFacingError('usage', `--lines expects a whole number from 0 to 10000, got "${v}".`);
  return n;
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UserFacingError('usage', `--port expects a port number from 1 to 65535, got "${v}".`);
  return n;
}
