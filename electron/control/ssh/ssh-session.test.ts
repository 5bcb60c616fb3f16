import { describe, expect, it } from 'vitest';
import { hostKeyAlgorithms } from './ssh-session';

describe('hostKeyAlgorithms', () => {
  it('keeps ssh2 defaults when nothing is known about the host', () => {
    expect(hostKeyAlgorithms([])[0]).toBe('ssh-ed25519');
  });

  it('asks for the key types already trusted first, so a multi-key server presents the known one', () => {
    const list = hostKeyAlgorithms(['ecdsa-sha2-nistp256']);
    expect(list[0]).toBe('ecdsa-sha2-nistp256');
    expect(list).toContain('ssh-ed25519');
    expect(new Set(list).size).toBe(list.length);
    expect(hostKeyAlgorithms(['ssh-rsa']).slice(0, 3)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
  });

  it('ignores key types ssh2 cannot verify', () => {
    expect(hostKeyAlgorithms(['ssh-dss', 'sk-ssh-ed25519@openssh.com'])[0]).toBe('ssh-ed25519');
  });
});
