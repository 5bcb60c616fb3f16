import type { HostConfig, HostState, HostStatus } from '../../../common/host';
import { formatSshTarget, LOCAL_HOST_NAME } from '../../../common/host';

export type Tone = 'ok' | 'busy' | 'warn' | 'bad' | 'idle';

interface StateLook {
  label: string;
  tone: Tone;
  /** What the user can do about it; empty when nothing is needed. */
  nextStep: string;
}

const LOOKS: Record<HostState, StateLook> = {
  connected: { label: 'connected', tone: 'ok', nextStep: '' },
  checking: { label: 'checking', tone: 'busy', nextStep: '' },
  unknown: { label: 'not checked', tone: 'idle', nextStep: 'Press Re-check to connect and discover its GPUs and software.' },
  unreachable: {
    label: 'unreachable',
    tone: 'bad',
    nextStep: 'Check that the machine is on, that the address and port are right and that sshd runs there (try "ssh USER@HOST" in a terminal), then press Re-check.',
  },
  'needs-trust': {
    label: 'needs trust',
    tone: 'warn',
    nextStep: 'Its host key is not trusted yet. Press Re-check and compare the fingerprint shown with the host\'s own key before trusting it.',
  },
  'auth-failed': {
    label: 'auth failed',
    tone: 'bad',
    nextStep: 'Check the user name and the identity file. The public key must be in the host\'s ~/.ssh/authorized_keys, or loaded in ssh-agent. Then press Re-check.',
  },
  'agent-outdated': {
    label: 'agent outdated',
    tone: 'warn',
    nextStep: 'The host runs an older Handoff agent. Press Re-check to replace it; running deployments on that host are not touched.',
  },
  error: { label: 'error', tone: 'bad', nextStep: 'Read the message above, fix the cause, then press Re-check.' },
};

export function hostStateLook(state: HostState): StateLook {
  return LOOKS[state];
}

export function isLocalHost(config: HostConfig): boolean {
  return config.kind === 'local';
}

export function hostDisplayName(config: HostConfig): string {
  return config.kind === 'local' && config.name === LOCAL_HOST_NAME ? 'This computer' : config.name;
}

export function hostAddress(config: HostConfig): string {
  if (config.kind === 'local') return 'local, no SSH';
  const target = formatSshTarget(config.target);
  return config.jump ? `${target} via ${formatSshTarget(config.jump)}` : target;
}

/** "This computer" first, then by name. */
export function sortHosts(hosts: readonly HostStatus[]): HostStatus[] {
  return [...hosts].sort((a, b) => {
    const la = isLocalHost(a.config) ? 0 : 1;
    const lb = isLocalHost(b.config) ? 0 : 1;
    return la - lb || a.config.name.localeCompare(b.config.name);
  });
}
