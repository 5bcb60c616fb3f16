import type { Command } from 'commander';
import { UserFacingError } from '../../common/errors';
import { formatSshTarget, HostCheckResult, type HostStatus } from '../../common/host';
import type { Task } from '../../common/task';
import { parseTargetOption } from './cli-args';
import { withController, type CliController } from './cli-controller';
import { TaskPrinter } from './task-printer';

interface PromptFlags {
  trustHostKey?: boolean;
  identityPassphraseEnv?: string;
  json?: boolean;
}

export function registerHostCommands(program: Command): void {
  const hosts = program.command('hosts').description('Manage GPU hosts (SSH) and this computer');

  hosts
    .command('add')
    .argument('<name>', 'a short name for the host')
    .option('--ssh <target>', 'USER@HOST[:PORT] (HOST may be an alias from ~/.ssh/config)')
    .option('--local', 'this computer, no SSH')
    .option('--identity <file>', 'private key file (default: ssh-agent, ~/.ssh/config, ~/.ssh/id_*)')
    .option('--jump <target>', 'jump host USER@HOST[:PORT]')
    .option('--trust-host-key', 'trust the host key if it is not known yet (a changed key is always refused)')
    .option('--identity-passphrase-env <var>', 'read the key passphrase from this environment variable')
    .option('--json', 'print the result as JSON')
    .description('Save a host and check it (connect, install the agent, discover GPUs and software)')
    .action(async (name: string, opts: PromptFlags & { ssh?: string; local?: boolean; identity?: string; jump?: string }) => {
      if (!!opts.ssh === !!opts.local) throw new UserFacingError('usage', 'Give exactly one of --ssh USER@HOST[:PORT] or --local.');
      await withController(async (c) => {
        const { task } = opts.local
          ? await c.call('hosts.add', { kind: 'local', name })
          : await c.call('hosts.add', {
              kind: 'ssh',
              name,
              target: parseTargetOption(opts.ssh!, '--ssh'),
              ...(opts.identity ? { identityFile: opts.identity } : {}),
              ...(opts.jump ? { jump: parseTargetOption(opts.jump, '--jump') } : {}),
            });
        await finishCheck(c, task, opts);
      });
    });

  hosts
    .command('list')
    .option('--json', 'print JSON')
    .description('List saved hosts with their last known status')
    .action(async (opts: { json?: boolean }) => {
      await withController(async (c) => {
        const list = await c.call('hosts.list');
        if (opts.json) {
          process.stdout.write(JSON.stringify(list, null, 2) + '\n');
          return;
        }
        printHostTable(list);
      });
    });

  hosts
    .command('check')
    .argument('<name>')
    .option('--trust-host-key', 'trust the host key if it is not known yet')
    .option('--identity-passphrase-env <var>', 'read the key passphrase from this environment variable')
    .option('--json', 'print the result as JSON')
    .description('Connect, install or reuse the agent, and discover GPUs and software')
    .action(async (name: string, opts: PromptFlags) => {
      await withController(async (c) => {
        const task = await c.call('hosts.check', { name });
        await finishCheck(c, task, opts);
      });
    });

  hosts
    .command('remove')
    .argument('<name>')
    .description('Forget a host (nothing on the host is touched)')
    .action(async (name: string) => {
      await withController(async (c) => {
        await c.call('hosts.remove', { name });
        process.stderr.write(`Removed ${name}.\n`);
      });
    });
}

/** Follows a check task to its end, answering prompts from the flags, then prints the outcome. */
async function finishCheck(c: CliController, started: Task, opts: PromptFlags): Promise<void> {
  const printer = new TaskPrinter(process.stderr, true);
  const finalTask = await c.followTask(started, (task) => {
    printer.update(task);
    if (task.state !== 'needs-input' || !task.prompt) return;
    const p = task.prompt;
    if (p.kind === 'trust-host-key') {
      if (opts.trustHostKey) process.stderr.write(`Trusting ${p.keyType} key ${p.fingerprint} of ${p.host}:${p.port} (--trust-host-key).\n`);
      void c.call('tasks.answer', { id: task.id, answer: { kind: 'trust-host-key', trust: !!opts.trustHostKey } });
    } else {
      const value = opts.identityPassphraseEnv ? process.env[opts.identityPassphraseEnv] : undefined;
      if (opts.identityPassphraseEnv && value === undefined) {
        process.stderr.write(`The environment variable ${opts.identityPassphraseEnv} is not set.\n`);
      }
      void c.call('tasks.answer', { id: task.id, answer: { kind: 'passphrase', passphrase: value ?? null } });
    }
  });
  if (finalTask.state !== 'succeeded') {
    const err = finalTask.error ?? { code: 'internal', message: 'The check did not finish.' };
    if (opts.json) process.stdout.write(JSON.stringify({ ok: false, error: err }, null, 2) + '\n');
    throw new UserFacingError(err.code, err.message);
  }
  const result = HostCheckResult.parse(finalTask.result);
  if (opts.json) {
    process.stdout.write(JSON.stringify({ ok: true, ...result }, null, 2) + '\n');
    return;
  }
  const s = result.status;
  const gpus = s.info?.gpus ?? [];
  const what = gpus.length ? `${gpus.length} GPU${gpus.length > 1 ? 's' : ''} (${[...new Set(gpus.map((g) => g.name))].join(', ')})` : 'no GPU (the simulated engine can run here)';
  const agent = result.agent.uploadedBundle ? `agent ${result.agent.version} installed${result.agent.uploadedRuntime ? ' with a Node runtime' : ''}` : `agent ${result.agent.version} reused`;
  process.stdout.write(`${s.config.name}: ${s.state} — ${what}; ${agent}; ${(result.durationMs / 1000).toFixed(1)} s\n`);
}

function printHostTable(list: HostStatus[]): void {
  const rows = list.map((h) => [
    h.config.name,
    h.config.kind === 'local' ? 'this computer' : formatSshTarget(h.config.target) + (h.config.jump ? ` via ${formatSshTarget(h.config.jump)}` : ''),
    h.state,
    h.info ? String(h.info.gpus.length) : '-',
    h.checkedAt ?? 'never',
  ]);
  const header = ['NAME', 'TARGET', 'STATUS', 'GPUS', 'CHECKED'];
  const widths = header.map((hd, i) => Math.max(hd.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write([fmt(header), ...rows.map(fmt)].join('\n') + '\n');
  for (const h of list) if (h.message && h.state !== 'connected') process.stdout.write(`  ${h.config.name}: ${h.message}\n`);
}
