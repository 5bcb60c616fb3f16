import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { formatCpuList } from '../../common/cpu-list';
import { allowedCpus, checkClientCpus, pinAgent, pinnedCommand } from './client-affinity';

const all = allowedCpus();
const first = String(all[0]);

describe('keeping the benchmark client on chosen CPUs', () => {
  it('refuses CPUs the agent may not use, naming the ones it may', () => {
    const beyond = os.cpus().length + 64;
    expect(() => checkClientCpus(String(beyond))).toThrow(new RegExp(`CPUs ${beyond} are not available to the agent on this host, which may use CPUs ${formatCpuList(all)}`));
    expect(() => checkClientCpus('1-')).toThrow(/not a CPU number or range/);
    expect(checkClientCpus(`${first},${first}`)).toBe(first);
  });

  it('starts an external tool under taskset, so the tool and its children run only there', async () => {
    const cmd = await pinnedCommand(first, '/bin/sh', ['-c', 'grep Cpus_allowed_list /proc/self/status']);
    expect(cmd.argv.slice(0, 3)).toEqual(['-c', first, '/bin/sh']);
    expect(execFileSync(cmd.file, cmd.argv, { encoding: 'utf8' })).toMatch(new RegExp(`Cpus_allowed_list:\\s*${first}\\n`));
  });

  it('pins every thread of the agent for the run, shares the pinning between overlapping runs on the same CPUs, refuses other CPUs meanwhile, and gives the old set back', async () => {
    const before = formatCpuList(allowedCpus());
    const a = await pinAgent(first);
    const b = await pinAgent(first);
    expect(formatCpuList(allowedCpus())).toBe(first);
    // Every thread, not only the main one (libuv's pool, V8's helpers).
    const threads = execFileSync('sh', ['-c', `grep -h Cpus_allowed_list /proc/${process.pid}/task/*/status | sort -u`], { encoding: 'utf8' }).trim().split('\n');
    expect(threads).toEqual([`Cpus_allowed_list:\t${first}`]);
    if (all.length > 1) await expect(pinAgent(String(all[1]))).rejects.toMatchObject({ code: 'client-cpus-busy' });
    await a();
    expect(formatCpuList(allowedCpus())).toBe(first);
    await b();
    await b();
    expect(formatCpuList(allowedCpus())).toBe(before);
  });
});
