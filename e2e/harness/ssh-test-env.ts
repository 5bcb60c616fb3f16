import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { addKnownHost } from '../../electron/control/ssh/known-hosts';
import type { SshConnectOptions } from '../../electron/control/ssh/ssh-session';
import type { SshdInstance } from './sshd';

/**
 * A client-side sandbox for SshSession tests: its own home (no default keys), empty user
 * known_hosts and ssh config, no ssh-agent, and a fresh Handoff known_hosts per call.
 */
export class SshClientSandbox {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'handoff-ssh-client-'));
  readonly userKnownHostsFile = path.join(this.dir, 'user_known_hosts');
  readonly sshConfigFile = path.join(this.dir, 'ssh_config');
  private n = 0;

  newKnownHostsFile(): string {
    return path.join(this.dir, `known_hosts-${this.n++}`);
  }

  /** Options that refuse unknown keys; override what the test is about. */
  options(sshd: SshdInstance, extra: Partial<SshConnectOptions> = {}): SshConnectOptions {
    return {
      target: { user: sshd.user, host: sshd.address, port: sshd.port },
      identityFile: sshd.keys.plain,
      knownHostsFile: this.newKnownHostsFile(),
      userKnownHostsFile: this.userKnownHostsFile,
      sshConfigFile: this.sshConfigFile,
      homeDir: this.dir,
      agentSocket: null,
      readyTimeoutMs: 15_000,
      onUnknownHostKey: async () => false,
      ...extra,
    };
  }

  /** Like options(), with the host key already trusted in Handoff's known_hosts. */
  async trustedOptions(sshd: SshdInstance, extra: Partial<SshConnectOptions> = {}): Promise<SshConnectOptions> {
    const o = this.options(sshd, extra);
    await addKnownHost(o.knownHostsFile, sshd.address, sshd.port, sshd.hostKeyBlob);
    return o;
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Resolves when `pred` holds, polling; rejects with `what` after `ms` (a hang guard, not a timing assertion). */
export async function waitFor(pred: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
