import fs from 'node:fs';
import { UserFacingError } from '../../common/errors';
import { formatCpuList, normalizeCpuList, parseCpuList } from '../../common/cpu-list';
import { runTool } from '../host/run-tool';
import { which } from '../host/python-envs';

/**
 * Keeps the benchmark client on the CPUs the user chose (`clientCpus`), so that its own CPU use
 * does not slow the engine it measures. It matters where the engine computes on the CPU — vLLM's
 * CPU build, whose OpenMP threads wait for one another at every step, so one thread descheduled by
 * the client stalls them all — and for a GPU engine's API server at high concurrency. An external
 * tool is started under `taskset -c`, so its processes inherit the set; the built-in generator runs
 * inside this agent, so the agent's own threads are pinned for the run and given their set back
 * afterwards.
 */

/** The CPUs a process may run on (/proc/<pid>/status). */
export function allowedCpus(pid: number | 'self' = 'self'): number[] {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(status);
  if (!m) throw new Error(`no Cpus_allowed_list in /proc/${pid}/status`);
  return parseCpuList(m[1]!);
}

async function taskset(): Promise<string> {
  const p = await which('taskset', process.env);
  if (!p) throw new UserFacingError('client-cpus-unavailable', 'Pinning the benchmark client to CPUs needs taskset on the host (Debian/Ubuntu package util-linux, RHEL util-linux-core). Install it, or leave "client CPUs" empty.');
  return p;
}

/** The list in taskset's form, after checking that this host lets the agent use every CPU in it. */
export function checkClientCpus(list: string): string {
  const r = normalizeCpuList(list);
  if (!r.ok) throw new UserFacingError('client-cpus-invalid', `Client CPUs "${list}": ${r.reason}.`);
  const wanted = parseCpuList(r.cpus);
  const allowed = new Set(allowedCpus());
  const missing = wanted.filter((c) => !allowed.has(c));
  if (missing.length) {
    throw new UserFacingError('client-cpus-invalid', `Client CPUs ${formatCpuList(missing)} are not available to the agent on this host, which may use CPUs ${formatCpuList([...allowed])}. Choose CPUs among those.`);
  }
  return formatCpuList(wanted);
}

/** `file argv…` run under `taskset -c cpus` (taskset reads options up to the first non-option word, the absolute path). */
export async function pinnedCommand(cpus: string, file: string, argv: string[]): Promise<{ file: string; argv: string[] }> {
  return { file: await taskset(), argv: ['-c', cpus, file, ...argv] };
}

async function setAgentCpus(cpus: string): Promise<void> {
  const r = await runTool(await taskset(), ['-a', '-p', '-c', cpus, String(process.pid)], { timeoutMs: 10_000 });
  if (r.code !== 0) throw new UserFacingError('client-cpus-unavailable', `taskset could not pin the agent to CPUs ${cpus}: ${(r.stderr || r.error || `exit ${r.code}`).trim().slice(0, 300)}`);
}

let held: { cpus: string; previous: string; count: number } | null = null;
// Pinning and unpinning take turns, so overlapping runs never see a half-made change.
let turn: Promise<unknown> = Promise.resolve();
const inTurn = <T>(fn: () => Promise<T>): Promise<T> => {
  const next = turn.then(fn, fn);
  turn = next.catch(() => undefined);
  return next;
};

/**
 * Pins every thread of this agent to `cpus` until the returned release is called. Runs that overlap
 * share one pinning when they ask for the same CPUs; a different set while one is held is refused,
 * since a process has one CPU set.
 */
export function pinAgent(cpus: string): Promise<() => Promise<void>> {
  return inTurn(async () => {
    if (held && held.cpus !== cpus) {
      throw new UserFacingError('client-cpus-busy', `Another run on this host keeps its built-in client on CPUs ${held.cpus}; runs at the same time must use the same client CPUs. Wait for it, or choose ${held.cpus}.`);
    }
    if (!held) {
      const previous = formatCpuList(allowedCpus());
      await setAgentCpus(cpus);
      held = { cpus, previous, count: 0 };
    }
    held.count++;
    let released = false;
    return () =>
      inTurn(async () => {
        if (released || !held) return;
        released = true;
        if (--held.count > 0) return;
        const { previous } = held;
        held = null;
        await setAgentCpus(previous);
      });
  });
}
