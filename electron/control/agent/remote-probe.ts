import crypto from 'node:crypto';
import { UserFacingError } from '../../../common/errors';

/**
 * One round trip that tells everything the install needs: OS, arch, glibc, Node, the agent home
 * and whether this version is already installed. The script is constant text; the version is a
 * positional argument, so nothing user-typed is spliced into shell code.
 */
export const PROBE_SCRIPT = `set -u
v="$1"; m="$2"
h="\${HANDOFF_AGENT_HOME:-$HOME/.handoff}"
echo "$m-BEGIN"
echo "os=$(uname -s)"
echo "arch=$(uname -m)"
echo "home=$h"
echo "glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null || true)"
n=$(command -v node 2>/dev/null || true)
echo "node=$n"
if [ -n "$n" ]; then echo "nodever=$("$n" --version 2>/dev/null || true)"; fi
d="$h/agent/$v"
if [ -f "$d/.complete" ]; then echo "installed=1"; fi
if [ -x "$d/node/bin/node" ]; then echo "runtime=1"; fi
echo "$m-END"
`;

export interface RemoteFacts {
  os: string;
  arch: 'x64' | 'arm64';
  glibc: string | null;
  home: string;
  systemNode: string | null;
  systemNodeVersion: string | null;
  installed: boolean;
  hasRuntime: boolean;
}

export function probeMarker(): string {
  return `HANDOFF-${crypto.randomBytes(6).toString('hex')}`;
}

/** Parses the probe's output between its markers (login banners around it are ignored). */
export function parseProbeOutput(stdout: string, marker: string): RemoteFacts {
  const begin = stdout.indexOf(`${marker}-BEGIN`);
  const end = stdout.indexOf(`${marker}-END`);
  if (begin < 0 || end < begin) {
    throw new UserFacingError('probe-failed', 'The host did not answer the setup probe as expected (is the login shell POSIX sh compatible?). Check that "sh -c true" works over SSH on that host.');
  }
  const kv = new Map<string, string>();
  for (const line of stdout.slice(begin, end).split('\n').slice(1)) {
    const i = line.indexOf('=');
    if (i > 0) kv.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  const os = kv.get('os') ?? '';
  if (os !== 'Linux') {
    throw new UserFacingError('unsupported-os', `The host runs ${os || 'an unknown OS'}; Handoff's agent runs on Linux hosts only.`);
  }
  const machine = kv.get('arch') ?? '';
  const arch = machine === 'x86_64' || machine === 'amd64' ? 'x64' : machine === 'aarch64' || machine === 'arm64' ? 'arm64' : null;
  if (!arch) {
    throw new UserFacingError('unsupported-arch', `The host's CPU architecture is ${machine || 'unknown'}; the agent supports x86_64 and aarch64.`);
  }
  const glibcRaw = kv.get('glibc') ?? '';
  const glibc = /glibc\s+([\d.]+)/i.exec(glibcRaw)?.[1] ?? null;
  const nodePath = kv.get('node') || null;
  const nodeVer = kv.get('nodever') || null;
  return {
    os,
    arch,
    glibc,
    home: kv.get('home') ?? '',
    systemNode: nodePath,
    systemNodeVersion: nodeVer,
    installed: kv.get('installed') === '1',
    hasRuntime: kv.get('runtime') === '1',
  };
}

/** True when `v` (like "v20.19.1") is at least major.minor. */
export function nodeVersionAtLeast(v: string | null, major: number, minor = 0): boolean {
  const m = v ? /^v?(\d+)\.(\d+)/.exec(v) : null;
  if (!m) return false;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > major || (maj === major && min >= minor);
}

export function glibcAtLeast(v: string | null, major: number, minor: number): boolean {
  const m = v ? /^(\d+)\.(\d+)/.exec(v) : null;
  if (!m) return false;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > major || (maj === major && min >= minor);
}
