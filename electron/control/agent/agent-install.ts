import fs from 'node:fs/promises';
import { existsSync } from 'node:fs';
import crypto from 'node:crypto';
import path from 'node:path';
import { UserFacingError } from '../../../common/errors';
import { agentLayout, AGENT_BUNDLE_NAME } from '../../../common/agent-layout';
import { glibcAtLeast, nodeVersionAtLeast, parseProbeOutput, probeMarker, PROBE_SCRIPT, type RemoteFacts } from './remote-probe';

/** The part of an SSH session the installer needs (SshSession satisfies it). */
export interface RemoteShell {
  exec(argv: string[], opts?: { stdin?: string | Buffer; timeoutMs?: number; signal?: AbortSignal }): Promise<{ code: number | null; stdout: string; stderr: string }>;
  upload(localPath: string, remotePath: string, onProgress?: (transferred: number, total: number) => void): Promise<void>;
}

/** What the app ships for remote hosts: the agent bundle and, on demand, a Node runtime tarball (node/bin/node inside). */
export interface AgentArtifacts {
  version: string;
  bundlePath: string;
  runtimeTarball(arch: 'x64' | 'arm64'): Promise<string>;
  /**
   * A directory holding a prebuilt `kvprobe` (and its build.json), from `npm run build` on a machine
   * with nvcc. Installed as `kvprobe-prebuilt/` beside the bundle, where the agent looks first, so a
   * host whose driver runs it needs neither nvcc nor torch.
   */
  kvprobePrebuiltDir?: string;
}

/** Directory name beside the bundle, locally and on hosts (agents/probe/probe-plugin.ts reads it). */
export const KVPROBE_PREBUILT_DIRNAME = 'kvprobe-prebuilt';

/** `kvprobe-prebuilt/` beside a bundle when it holds a kvprobe binary, else undefined (no nvcc at build time is normal). */
export function kvprobePrebuiltBeside(bundlePath: string): string | undefined {
  const dir = path.join(path.dirname(bundlePath), KVPROBE_PREBUILT_DIRNAME);
  return existsSync(path.join(dir, 'kvprobe')) ? dir : undefined;
}

export interface InstalledAgent {
  facts: RemoteFacts;
  /** argv that starts `handoff-agent attach` on the host. */
  attachArgv: string[];
  uploadedBundle: boolean;
  uploadedRuntime: boolean;
  /** True when this install uploaded a prebuilt kvprobe. */
  uploadedKvprobe: boolean;
}

export interface InstallProgress {
  (detail: string, progress?: number): void;
}

const MIN_NODE = { major: 20, minor: 19 };
const LOCK_STALE_S = 300;

/**
 * Installs the agent into ~/.handoff/agent/<version>/ the way VS Code Remote-SSH does: version-keyed
 * directory, exclusive lock, upload into a temp dir, marker file, atomic rename. A second call with
 * the same version finds the marker and uploads nothing.
 */
export async function ensureAgentInstalled(shell: RemoteShell, artifacts: AgentArtifacts, progress: InstallProgress, signal?: AbortSignal): Promise<InstalledAgent> {
  const marker = probeMarker();
  const probe = await shell.exec(['sh', '-c', PROBE_SCRIPT, 'sh', artifacts.version, marker], { timeoutMs: 20_000, signal });
  const facts = parseProbeOutput(probe.stdout, marker);
  const layout = agentLayout(facts.home, artifacts.version);
  const systemNodeOk = facts.systemNode !== null && nodeVersionAtLeast(facts.systemNodeVersion, MIN_NODE.major, MIN_NODE.minor);
  const needRuntime = !systemNodeOk;
  const nodeBin = systemNodeOk ? facts.systemNode! : layout.nodeBin;

  if (facts.installed && (!needRuntime || facts.hasRuntime)) {
    progress(`agent ${artifacts.version} already installed`, 1);
    return { facts, attachArgv: [nodeBin, layout.bundle, 'attach'], uploadedBundle: false, uploadedRuntime: false, uploadedKvprobe: false };
  }
  if (needRuntime && !glibcAtLeast(facts.glibc, 2, 28)) {
    throw new UserFacingError(
      'glibc-too-old',
      `The host has ${facts.systemNode ? `Node ${facts.systemNodeVersion ?? '(unknown version)'}` : 'no Node.js'} and glibc ${facts.glibc ?? 'unknown'}; the Node runtime Handoff uploads needs glibc 2.28 or newer. Install Node ${MIN_NODE.major}.${MIN_NODE.minor}+ on the host (it will then be used instead).`,
    );
  }

  const nonce = crypto.randomBytes(4).toString('hex');
  await acquireLock(shell, layout.installLock, nonce, signal);
  try {
    const tmp = `${layout.dir}.tmp-${nonce}`;
    await run(shell, ['sh', '-c', 'rm -rf "$1" && mkdir -p "$1" && chmod 700 "$2"', 'sh', tmp, `${facts.home}`], signal);
    const bundleSize = (await fs.stat(artifacts.bundlePath)).size;
    const runtimePath = needRuntime ? await artifacts.runtimeTarball(facts.arch) : null;
    const runtimeSize = runtimePath ? (await fs.stat(runtimePath)).size : 0;
    const kvprobeFiles = await prebuiltFiles(artifacts.kvprobePrebuiltDir);
    const kvprobeSize = kvprobeFiles.reduce((sum, f) => sum + f.bytes, 0);
    const total = bundleSize + runtimeSize + kvprobeSize;
    progress('uploading the agent', 0);
    await shell.upload(artifacts.bundlePath, `${tmp}/${AGENT_BUNDLE_NAME}`, (done) => progress('uploading the agent', total ? done / total : 0));
    if (kvprobeFiles.length > 0) {
      // Inside the temp dir like the bundle: the rename below publishes both or neither.
      const remoteDir = `${tmp}/${KVPROBE_PREBUILT_DIRNAME}`;
      await run(shell, ['mkdir', '-p', remoteDir], signal);
      let sent = bundleSize;
      for (const f of kvprobeFiles) {
        progress('uploading the prebuilt kvprobe', sent / total);
        const before = sent;
        await shell.upload(f.localPath, `${remoteDir}/${f.name}`, (done) => progress('uploading the prebuilt kvprobe', (before + done) / total));
        sent += f.bytes;
      }
      await run(shell, ['chmod', '755', `${remoteDir}/kvprobe`], signal);
    }
    if (runtimePath) {
      progress('uploading the Node runtime (host has no Node 20.19+)', (bundleSize + kvprobeSize) / total);
      await shell.upload(runtimePath, `${tmp}/node.tar.xz`, (done) => progress('uploading the Node runtime', (bundleSize + kvprobeSize + done) / total));
      progress('unpacking the Node runtime', 1);
      await run(shell, ['sh', '-c', 'cd "$1" && tar -xJf node.tar.xz && rm -f node.tar.xz && ./node/bin/node --version >/dev/null', 'sh', tmp], signal, 'unpack the Node runtime (needs tar and xz on the host)');
    }
    await run(
      shell,
      ['sh', '-c', 'printf "%s\\n" "$3" > "$1/.complete" && rm -rf "$2" && mv "$1" "$2"', 'sh', tmp, layout.dir, artifacts.version],
      signal,
    );
    progress(`agent ${artifacts.version} installed`, 1);
    return { facts: { ...facts, installed: true, hasRuntime: needRuntime }, attachArgv: [nodeBin, layout.bundle, 'attach'], uploadedBundle: true, uploadedRuntime: needRuntime, uploadedKvprobe: kvprobeFiles.length > 0 };
  } finally {
    await shell.exec(['sh', '-c', '[ "$(cat "$1/owner" 2>/dev/null)" = "$2" ] && rm -rf "$1"; true', 'sh', layout.installLock, nonce]).catch(() => undefined);
  }
}

/** The regular files of a prebuilt kvprobe dir; none when there is no dir or no kvprobe in it. */
async function prebuiltFiles(dir: string | undefined): Promise<Array<{ name: string; localPath: string; bytes: number }>> {
  if (!dir || !existsSync(path.join(dir, 'kvprobe'))) return [];
  const out: Array<{ name: string; localPath: string; bytes: number }> = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    // build-kvprobe.sh leaves kvprobe.tmp.* only when interrupted: never ship those.
    if (!e.isFile() || e.name.includes('.tmp')) continue;
    const localPath = path.join(dir, e.name);
    out.push({ name: e.name, localPath, bytes: (await fs.stat(localPath)).size });
  }
  return out;
}

/** Removes install directories of other versions, once the new agent is known to work. */
export async function removeOtherVersions(shell: RemoteShell, home: string, keepVersion: string): Promise<void> {
  await shell.exec([
    'sh',
    '-c',
    'for d in "$1"/agent/*; do case "$(basename "$d")" in "$2"|.install.lock) ;; *) rm -rf "$d" ;; esac; done; true',
    'sh',
    home,
    keepVersion,
  ]);
}

/** mkdir is atomic on every filesystem: the lock is a directory holding its owner's nonce. Stale locks (crashed installers) expire. */
async function acquireLock(shell: RemoteShell, lockDir: string, nonce: string, signal?: AbortSignal): Promise<void> {
  const script = `mkdir -p "$(dirname "$1")" && chmod 700 "$(dirname "$1")"
if mkdir "$1" 2>/dev/null; then printf "%s" "$2" > "$1/owner"; echo acquired; exit 0; fi
age=$(( $(date +%s) - $(stat -c %Y "$1" 2>/dev/null || date +%s) ))
if [ "$age" -gt "$3" ]; then rm -rf "$1"; echo stale; exit 0; fi
echo busy`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (signal?.aborted) throw new UserFacingError('cancelled', 'Cancelled.');
    const r = await shell.exec(['sh', '-c', script, 'sh', lockDir, nonce, String(LOCK_STALE_S)], { timeoutMs: 15_000, signal });
    const out = r.stdout.trim();
    if (out === 'acquired') return;
    if (out !== 'busy' && out !== 'stale') throw new UserFacingError('install-failed', `Could not take the agent install lock at ${lockDir}: ${r.stderr.trim() || out}`);
    if (Date.now() > deadline) {
      throw new UserFacingError('install-locked', `Another agent install holds ${lockDir}. Wait for it to finish, or remove that directory on the host if no install is running.`);
    }
    await new Promise((res) => setTimeout(res, 500));
  }
}

async function run(shell: RemoteShell, argv: string[], signal?: AbortSignal, what = 'install the agent'): Promise<void> {
  const r = await shell.exec(argv, { timeoutMs: 120_000, signal });
  if (r.code !== 0) {
    throw new UserFacingError('install-failed', `Could not ${what} on the host (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(-500)}. Check free disk space and permissions under ~/.handoff.`);
  }
}
