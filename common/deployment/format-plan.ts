import { displayQuote } from './display-quote';
import type { DeploymentPlan, PlannedProcess } from './plan';
import { formatProblems } from './problems';

/**
 * The plan as text, for `handoff deploy SPEC --dry-run` and the wizard's review step: every
 * process with its env and command, shell-quoted so it can be pasted into a terminal.
 */
export function formatPlan(plan: DeploymentPlan): string {
  const out: string[] = [];
  const hosts = plan.hosts.join(', ');
  out.push(`Deployment "${plan.name}": engine ${plan.engine}${plan.engine === 'mocker' ? ' (simulated)' : ''}, ${plan.mode}, ${plan.processes.length} processes on ${hosts}`);
  out.push(`Endpoint: ${plan.endpoint.openaiBaseUrl} on ${plan.endpoint.host}, model "${plan.endpoint.model}"`);
  for (const p of plan.processes) {
    out.push('', ...formatProcess(p));
  }
  if (plan.warnings.length) {
    out.push('', 'Warnings:', ...formatProblems(plan.warnings).split('\n').map((l) => '  ' + l));
  }
  return out.join('\n') + '\n';
}

export function formatProcess(p: PlannedProcess): string[] {
  const facts = [p.kind === 'router' ? 'router' : p.role, p.host];
  if (p.gpuIds.length) facts.push(`GPU${p.gpuIds.length > 1 ? 's' : ''} ${p.gpuIds.join(',')}`);
  else if (p.cpuOnly) facts.push('CPU (no GPU on host)');
  if (p.tp > 1) facts.push(`TP ${p.tp}`);
  if (p.cpus !== undefined) facts.push(`CPUs ${p.cpus}`);
  facts.push(`listens ${p.bindHost}:${p.port}`);
  if (p.sideChannel) {
    const r = p.sideChannel.reservedPorts;
    facts.push(`NIXL side channel ${p.sideChannel.host}:${p.sideChannel.port}${r.length > 1 ? ` (reserved ${r[0]}-${r[r.length - 1]})` : ''}`);
  }
  const lines = [`${p.name}  [${facts.join(' · ')}]`];
  if (p.cwd) lines.push(`  cd ${displayQuote(p.cwd)}`);
  lines.push(...formatCommand(p.env, p.argv, p.cpus).map((l) => '  ' + l));
  const after = p.dependsOn.length ? `starts after ${p.dependsOn.join(', ')} ${p.dependsOn.length === 1 ? 'is' : 'are'} ready; ` : '';
  lines.push(`  ${after}ready when GET ${p.readiness.url} answers 200 (timeout ${p.readiness.timeoutS} s)`);
  if (p.restart.policy !== 'off') lines.push(`  restart ${p.restart.policy}, at most ${p.restart.maxRestarts} times, ${p.restart.backoffS} s apart`);
  return lines;
}

/** `VAR=value … argv` over several lines, one flag (with its value) per line; `taskset -c CPUS` first when pinned. */
export function formatCommand(env: Record<string, string>, argv: readonly string[], cpus?: string): string[] {
  const lines = Object.entries(env).map(([k, v]) => `${k}=${displayQuote(v)}`);
  if (cpus !== undefined) lines.push(`taskset -c ${displayQuote(cpus)}`);
  let current = '';
  const cmd: string[] = [];
  argv.forEach((word, i) => {
    const isFlag = /^-[A-Za-z-]/.test(word);
    if (isFlag && i > 0 && current) {
      cmd.push(current);
      current = '';
    }
    current = current ? `${current} ${displayQuote(word)}` : displayQuote(word);
  });
  if (current) cmd.push(current);
  const all = [...lines, ...cmd.map((l, i) => (i === 0 ? l : '  ' + l))];
  return all.map((l, i) => (i < all.length - 1 ? `${l} \\` : l));
}
