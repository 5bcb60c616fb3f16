import type { HostConfig } from '../../../common/host';
import { SshSession } from '../ssh/ssh-session';
import type { OpenAttach } from '../agent/agent-attach';

export interface SshHostOptions {
  knownHostsFile: string;
  userKnownHostsFile?: string;
  sshConfigFile?: string;
  onStep: (step: 'tcp' | 'host-key' | 'auth', state: 'running' | 'done' | 'failed', detail?: string) => void;
  onUnknownHostKey: (k: { host: string; port: number; keyType: string; fingerprint: string }) => Promise<boolean>;
  onPassphrase: (keyFile: string) => Promise<string | null>;
  /** Cancels a connect in progress (a stalled handshake must not outlive the user's cancel). */
  signal?: AbortSignal;
}

/** Opens an SSH session to a saved host (config, key, jump host and trust callbacks wired in). */
export function openSshHost(config: Extract<HostConfig, { kind: 'ssh' }>, opts: SshHostOptions): Promise<SshSession> {
  return SshSession.connect({
    target: config.target,
    ...(config.identityFile ? { identityFile: config.identityFile } : {}),
    ...(config.jump ? { jump: config.jump } : {}),
    knownHostsFile: opts.knownHostsFile,
    ...(opts.userKnownHostsFile ? { userKnownHostsFile: opts.userKnownHostsFile } : {}),
    ...(opts.sshConfigFile ? { sshConfigFile: opts.sshConfigFile } : {}),
    onUnknownHostKey: opts.onUnknownHostKey,
    onPassphrase: opts.onPassphrase,
    onStep: opts.onStep,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}

/** `handoff-agent attach` on an SSH exec channel. Closing the channel leaves the daemon running. */
export function sshAttach(session: SshSession, argv: string[]): OpenAttach {
  return async () => {
    const proc = await session.spawn(argv);
    let tail = '';
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d: string) => {
      tail = (tail + d).slice(-4000);
    });
    return { stdin: proc.stdin, stdout: proc.stdout, stderrTail: () => tail, close: () => proc.close() };
  };
}
