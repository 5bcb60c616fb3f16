import { UserFacingError } from '../../../common/errors';

/**
 * The SSH failures a user can act on, each with a message that says what happened and what to
 * do next. Codes are stable (UI and tests branch on them).
 */
export type SshErrorCode =
  | 'host-unreachable'
  | 'host-key-unknown'
  | 'host-key-changed'
  | 'auth-failed'
  | 'passphrase-required'
  | 'passphrase-wrong'
  | 'identity-invalid'
  | 'jump-failed'
  | 'ssh-failed'
  | 'connection-lost'
  | 'exec-timeout'
  | 'cancelled';

/** Errors that retrying cannot fix: a person must act (trust, keys, config) first. */
const NOT_RETRYABLE = new Set([
  'host-key-unknown',
  'host-key-changed',
  'auth-failed',
  'passphrase-required',
  'passphrase-wrong',
  'identity-invalid',
  'ssh-config-invalid',
  'ssh-config-unreadable',
  'cancelled',
]);

export function isRetryableSshError(err: unknown): boolean {
  if (!(err instanceof UserFacingError)) return true;
  if (err.code === 'jump-failed') {
    const cause = (err.details as { cause?: string } | undefined)?.cause;
    return cause === undefined || !NOT_RETRYABLE.has(cause);
  }
  return !NOT_RETRYABLE.has(err.code);
}

export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A socket-level failure (DNS, refused, unreachable) as host-unreachable, or null if it is not one. */
export function socketError(err: NodeJS.ErrnoException, host: string, port: number): UserFacingError | null {
  const where = hostPort(host, port);
  switch (err.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return new UserFacingError('host-unreachable', `Cannot resolve the host name "${host}" (${err.code}). Check the spelling and your DNS, or add a Host entry with HostName to ~/.ssh/config.`, { host, port, errno: err.code });
    case 'ECONNREFUSED':
      return new UserFacingError('host-unreachable', `Cannot reach ${where}: connection refused. Check that the machine is up, that sshd is running and listening on port ${port}, and that the address is right.`, { host, port, errno: err.code });
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ECONNRESET':
    case 'EPIPE':
      return new UserFacingError('host-unreachable', `Cannot reach ${where} (${err.code}: ${err.message}). Check the network path (VPN, firewall) and that sshd is running there.`, { host, port, errno: err.code });
    default:
      return null;
  }
}

export function timeoutError(host: string, port: number, seconds: number, phase: string): UserFacingError {
  return new UserFacingError(
    'host-unreachable',
    `No answer from ${hostPort(host, port)} within ${seconds} s (${phase}). Check the network path (VPN, firewall) and that an SSH server, not another service, listens on port ${port}.`,
    { host, port, phase },
  );
}

export function hostKeyUnknownError(k: { host: string; port: number; keyType: string; fingerprint: string; role: string }): UserFacingError {
  return new UserFacingError(
    'host-key-unknown',
    `The host key of ${k.role} ${hostPort(k.host, k.port)} is not trusted yet: ${k.keyType} ${k.fingerprint}. ` +
      `Compare it with the server's own fingerprint (run "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub" there), ` +
      `then trust it in the add-host dialog, or on the command line with --trust-host-key.`,
    { host: k.host, port: k.port, keyType: k.keyType, fingerprint: k.fingerprint },
  );
}

export function hostKeyChangedError(k: {
  host: string;
  port: number;
  keyType: string;
  fingerprint: string;
  role: string;
  displayName?: string;
  known: { file: string; line: number; fingerprint: string }[];
  inHandoffFile: boolean;
  revoked?: boolean;
}): UserFacingError {
  const where = hostPort(k.host, k.port);
  const name = k.displayName ?? '<name>';
  const known = k.known.map((e) => `${e.fingerprint} (${e.file}:${e.line})`).join(', ');
  const fix = k.inHandoffFile
    ? `If the machine was really reinstalled, remove it with "handoff hosts remove ${name}" and add it again, checking the new fingerprint.`
    : `If the machine was really reinstalled, delete the old entry with "ssh-keygen -R '${k.port === 22 ? k.host : `[${k.host}]:${k.port}`}'" and add the host again, checking the new fingerprint.`;
  const head = k.revoked
    ? `REFUSED: the host key of ${k.role} ${where} (${k.keyType} ${k.fingerprint}) is marked @revoked in ${known || 'known_hosts'}. Do not connect until the server's keys are replaced.`
    : `WARNING: THE HOST KEY OF ${k.role.toUpperCase()} ${where} HAS CHANGED. Someone may be intercepting the connection (man-in-the-middle), or the host was reinstalled. ` +
      `Trusted before: ${known}. Presented now: ${k.keyType} ${k.fingerprint}. Handoff refuses to connect. ${fix}`;
  return new UserFacingError('host-key-changed', head, {
    host: k.host,
    port: k.port,
    keyType: k.keyType,
    fingerprint: k.fingerprint,
    known: k.known,
    revoked: k.revoked ?? false,
  });
}

export function authFailedError(k: { user: string; host: string; port: number; role: string; tried: string[] }): UserFacingError {
  const where = `${k.user}@${hostPort(k.host, k.port)}`;
  if (k.tried.length === 0) {
    return new UserFacingError(
      'auth-failed',
      `No key to log in to ${k.role} ${where} with: no identity file was given, there is no ssh-agent (SSH_AUTH_SOCK) and none of ~/.ssh/id_ed25519, id_ecdsa, id_rsa exists. Pass --identity FILE or load a key into ssh-agent.`,
      { user: k.user, host: k.host, port: k.port, tried: [] },
    );
  }
  return new UserFacingError(
    'auth-failed',
    `The server ${where} (${k.role}) refused the login. Tried: ${k.tried.join('; ')}. ` +
      `Check that the matching public key is in ~${k.user}/.ssh/authorized_keys on that machine and that the user name is right, or choose another key with --identity FILE.`,
    { user: k.user, host: k.host, port: k.port, tried: k.tried },
  );
}

export function passphraseRequiredError(keyFile: string): UserFacingError {
  return new UserFacingError(
    'passphrase-required',
    `The key ${keyFile} is protected by a passphrase. The app asks for it when connecting; on the command line, put it in an environment variable and pass --identity-passphrase-env VAR (it is never stored).`,
    { keyFile },
  );
}

export function passphraseWrongError(keyFile: string): UserFacingError {
  return new UserFacingError('passphrase-wrong', `The passphrase for ${keyFile} is wrong. Try again, or check it with "ssh-keygen -y -f ${keyFile}".`, { keyFile });
}

export function identityInvalidError(keyFile: string, why: string): UserFacingError {
  return new UserFacingError('identity-invalid', `Cannot use the identity file ${keyFile}: ${why}. Pass the private key file (not the .pub) with --identity FILE.`, { keyFile });
}

export function jumpFailedError(jump: string, inner: UserFacingError): UserFacingError {
  return new UserFacingError('jump-failed', `Could not connect through the jump host ${jump}: ${inner.message}`, { jump, cause: inner.code, causeDetails: inner.details });
}

export function forwardThroughJumpError(jump: string, host: string, port: number, reason: string): UserFacingError {
  return new UserFacingError(
    'jump-failed',
    `The jump host ${jump} could not open a connection to ${hostPort(host, port)} (${reason}). Check that the target is reachable from the jump host and that the jump host's sshd allows TCP forwarding (AllowTcpForwarding).`,
    { jump, host, port, cause: 'forward-failed' },
  );
}

export function connectionLostError(host: string, port: number, what: string): UserFacingError {
  return new UserFacingError('connection-lost', `The SSH connection to ${hostPort(host, port)} dropped ${what}. Handoff reconnects automatically; try again once it is back.`, { host, port });
}
