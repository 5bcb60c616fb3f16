/**
 * A real OpenSSH server on a loopback address for integration tests (reference/build-machine.md,
 * "Real SSH on loopback"). Every instance gets a fresh Unix user (`hot-xxxxxx`), its own host key,
 * client keys (plain, passphrase-protected, and one that is not authorized), a free port and a
 * minimal sshd_config. Sessions get `PATH=~/fakebin:…` so a test can put a fake `nvidia-smi`
 * first; with `withNode: false` nothing on PATH provides `node`, which forces the agent runtime
 * upload. Needs root (useradd, sshd on a privileged setup); `sshdUnavailableReason()` says why not.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cmdlineOf, descendants, isAlive, killQuietly, listProcs } from './procs';

const SSHD = '/usr/sbin/sshd';
const STATE_PREFIX = 'hot-sshd-';
const USER_PREFIX = 'hot-';
const HARNESS_DIR = path.dirname(fileURLToPath(import.meta.url));
const FAKE_NVIDIA_SMI = path.join(HARNESS_DIR, 'fake-nvidia-smi.sh');
/** Directories whose tools the agent may use when `withNode: false` (symlinked, minus node). */
const TOOL_DIRS = ['/usr/local/bin', '/usr/bin', '/usr/sbin', '/bin', '/sbin'];
const NODE_NAMES = new Set(['node', 'nodejs', 'npm', 'npx', 'corepack']);

export const CLIENT_KEY_PASSPHRASE = 'correct horse battery staple';

export interface StartSshdOptions {
  /** 127.0.0.x; default 127.0.0.1. */
  address?: string;
  /** When false, the session PATH holds no `node` (default true: /usr/bin is on PATH). */
  withNode?: boolean;
  /** GPUs the fake nvidia-smi reports (FAKE_GPU_COUNT and ~/fakebin/fake-gpu-count); its default is 4. */
  fakeGpus?: number;
  /** Copy e2e/harness/fake-nvidia-smi.sh to ~/fakebin/nvidia-smi (default true; false: no nvidia-smi at all). */
  fakeNvidiaSmi?: boolean;
  /** Authorize (and hand out) the client keys of another instance instead of making new ones. */
  shareKeysWith?: SshdInstance;
  /** Extra sshd_config lines. */
  extraConfig?: string[];
}

export interface SshdKeys {
  /** Private key files (OpenSSH format); `.pub` next to each. */
  plain: string;
  encrypted: string;
  passphrase: string;
  unauthorized: string;
}

export interface SshdInstance {
  readonly address: string;
  readonly port: number;
  readonly user: string;
  readonly uid: number;
  readonly home: string;
  /** `~/fakebin`, first on the session PATH. */
  readonly fakebin: string;
  /** The PATH sessions get. */
  readonly sessionPath: string;
  /** Root-owned directory with sshd_config, host key, pid file and client keys. */
  readonly dir: string;
  readonly configFile: string;
  /** `ssh-ed25519 AAAA…` (changes after rotateHostKey). */
  readonly hostPublicKey: string;
  readonly hostKeyBlob: Buffer;
  readonly hostFingerprintSha256: string;
  readonly keys: SshdKeys;
  /** The sshd daemon's pid (changes when it restarts). */
  readonly pid: number | null;
  /** Restarts sshd on the same address and port with a new host key. */
  rotateHostKey(): Promise<void>;
  /** Stops only the listening daemon: established sessions stay, new connections are refused. */
  stopDaemon(): Promise<void>;
  /** Starts the daemon again on the same address and port. */
  startDaemon(): Promise<void>;
  /** Kills the sshd processes serving established connections, as a network drop would end them. */
  dropConnections(): void;
  /** SIGSTOPs / SIGCONTs the sshd processes of established connections (a silent, hanging link). */
  freezeConnections(): void;
  thawConnections(): void;
  /** Recent sshd log output (stderr of `sshd -D -e`). */
  logs(): string;
  /** Kills sshd and every process of the test user, removes the user, home and state. Idempotent. */
  stop(): Promise<void>;
}

/** Why real-sshd tests cannot run here, or null when they can. */
export function sshdUnavailableReason(): string | null {
  if (process.platform !== 'linux') return 'real-sshd tests need Linux';
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'real-sshd tests need root (useradd, sshd)';
  for (const tool of [SSHD, '/usr/bin/ssh-keygen', '/usr/sbin/useradd', '/usr/sbin/userdel']) {
    if (!existsSync(tool)) return `${tool} is missing (apt-get install -y openssh-server)`;
  }
  return null;
}

function run(argv: string[], input?: string): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', input });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** useradd/userdel lock /etc/passwd; parallel test files contend, so retry briefly. */
function runWithLockRetry(argv: string[]): void {
  for (let attempt = 0; ; attempt++) {
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
    if (r.status === 0) return;
    const locked = /lock|try again/i.test(r.stderr);
    if (!locked || attempt >= 50) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
    sleepSync(50 + Math.floor(Math.random() * 150));
  }
}

function freePort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, address, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function makeKey(file: string, passphrase: string, comment: string): void {
  // Few KDF rounds for the encrypted key: ssh2 decrypts it in JS and 16 rounds cost ~0.5 s a load.
  run(['ssh-keygen', '-q', '-t', 'ed25519', '-a', '4', '-N', passphrase, '-C', comment, '-f', file]);
}

function readPublicKey(file: string): { line: string; blob: Buffer } {
  const [type, b64] = readFileSync(file, 'utf8').trim().split(/\s+/);
  return { line: `${type} ${b64}`, blob: Buffer.from(b64!, 'base64') };
}

function fingerprint(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** A directory of symlinks to every tool in TOOL_DIRS except Node's. */
function buildToolbin(dir: string): void {
  mkdirSync(dir, { mode: 0o755 });
  const seen = new Set<string>();
  for (const d of TOOL_DIRS) {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) {
      if (seen.has(n) || NODE_NAMES.has(n)) continue;
      seen.add(n);
      symlinkSync(path.join(d, n), path.join(dir, n));
    }
  }
}

interface OwnerRecord {
  ownerPid: number;
  user: string;
  home: string;
}

const live = new Set<SshdInstanceImpl>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const inst of live) inst.cleanupSync();
  });
}

/** Removes leftovers of harness runs whose process died without cleaning up (e.g. SIGKILL). */
function sweepStale(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const n of names) {
    if (!n.startsWith(STATE_PREFIX)) continue;
    const dir = path.join(tmpdir(), n);
    let owner: OwnerRecord;
    try {
      owner = JSON.parse(readFileSync(path.join(dir, 'owner.json'), 'utf8')) as OwnerRecord;
    } catch {
      continue; // being created right now, or not ours
    }
    if (isAlive(owner.ownerPid)) continue;
    cleanupState(dir, owner.user, owner.home);
  }
}

function uidOf(user: string): number | null {
  const r = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : null;
}

/** Synchronous teardown shared by stop(), the exit hook and the stale sweep. */
function cleanupState(dir: string, user: string, home: string): void {
  const pidFile = path.join(dir, 'sshd.pid');
  const cfg = path.join(dir, 'sshd_config');
  const procs = listProcs();
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    // Only kill the pid if it is still our sshd (pids get reused).
    if (pid > 0 && cmdlineOf(pid)?.includes(cfg)) {
      for (const d of descendants(pid, procs)) killQuietly(d.pid, 'SIGKILL');
      killQuietly(pid, 'SIGKILL');
    }
  }
  const uid = uidOf(user);
  if (uid !== null && uid !== 0) {
    // Everything running as the throwaway test user was started by the test (agent daemons…).
    for (let round = 0; round < 20; round++) {
      const mine = listProcs().filter((p) => p.uid === uid && p.state !== 'Z');
      if (mine.length === 0) break;
      for (const p of mine) killQuietly(p.pid, 'SIGKILL');
      sleepSync(25);
    }
    try {
      runWithLockRetry(['userdel', '-f', user]);
    } catch {
      // leave the user for the next sweep rather than failing teardown
    }
  }
  rmSync(home, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
}

class SshdInstanceImpl implements SshdInstance {
  readonly keys: SshdKeys;
  readonly configFile: string;
  readonly fakebin: string;
  hostPublicKey = '';
  hostKeyBlob: Buffer = Buffer.alloc(0);
  hostFingerprintSha256 = '';
  private child: ChildProcess | null = null;
  private logText = '';
  private stopped = false;
  private frozen: number[] = [];

  constructor(
    readonly address: string,
    public port: number,
    readonly user: string,
    readonly uid: number,
    readonly home: string,
    readonly dir: string,
    readonly sessionPath: string,
    keys: SshdKeys,
  ) {
    this.keys = keys;
    this.configFile = path.join(dir, 'sshd_config');
    this.fakebin = path.join(home, 'fakebin');
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  private get hostKeyFile(): string {
    return path.join(this.dir, 'host_ed25519');
  }

  newHostKey(): void {
    rmSync(this.hostKeyFile, { force: true });
    rmSync(this.hostKeyFile + '.pub', { force: true });
    makeKey(this.hostKeyFile, '', `${this.user}-host`);
    const pub = readPublicKey(this.hostKeyFile + '.pub');
    this.hostPublicKey = pub.line;
    this.hostKeyBlob = pub.blob;
    this.hostFingerprintSha256 = fingerprint(pub.blob);
  }

  writeConfig(extra: string[], env: Record<string, string>): void {
    const lines = [
      `Port ${this.port}`,
      `ListenAddress ${this.address}`,
      `HostKey ${this.hostKeyFile}`,
      `PidFile ${path.join(this.dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(this.dir, 'authorized_keys')}`,
      `AllowUsers ${this.user}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin no',
      'UsePAM no',
      'StrictModes no',
      'AllowTcpForwarding yes',
      'AllowStreamLocalForwarding yes',
      'Subsystem sftp internal-sftp',
      'LogLevel VERBOSE',
      // Parallel tests connect in bursts; the default 10:30:100 drops some of them.
      'MaxStartups 100',
      // SetEnv is applied after sshd's default PATH, so it replaces it (sshd_config(5) SetEnv).
      'SetEnv ' + Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' '),
      ...extra,
    ];
    writeFileSync(this.configFile, lines.join('\n') + '\n', { mode: 0o644 });
  }

  startDaemon(): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('sshd instance was stopped'));
    if (this.child) return Promise.resolve();
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    return new Promise((resolve, reject) => {
      const child = spawn(SSHD, ['-D', '-e', '-f', this.configFile], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
      this.child = child;
      let ready = false;
      const onData = (b: Buffer) => {
        this.logText = (this.logText + b.toString('utf8')).slice(-256_000);
        if (!ready && this.logText.includes(`Server listening on ${this.address} port ${this.port}`)) {
          ready = true;
          resolve();
        }
      };
      child.stderr!.on('data', onData);
      child.once('error', (err) => {
        this.child = null;
        if (!ready) reject(err);
      });
      child.once('exit', (code, signal) => {
        if (this.child === child) this.child = null;
        if (!ready) reject(new Error(`sshd exited (${code ?? signal}) before listening:\n${this.logText.slice(-2000)}`));
      });
    });
  }

  async stopDaemon(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.child = null;
      return;
    }
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    killQuietly(child.pid!, 'SIGTERM');
    const timer = setTimeout(() => killQuietly(child.pid!, 'SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
    this.child = null;
  }

  async rotateHostKey(): Promise<void> {
    // Live sessions keep their connection; only the daemon restarts with the new key.
    await this.stopDaemon();
    this.newHostKey();
    await this.startDaemon();
  }

  /**
   * sshd processes that serve this instance's connections: the daemon's descendants, plus any
   * sshd whose title names our user ("sshd: USER [priv]", "sshd: USER@notty"), which finds
   * sessions orphaned by a daemon restart, including one caught between the pre-auth and the
   * post-auth child.
   */
  private sessionProcs() {
    const pid = this.child?.pid;
    const procs = listProcs().filter((p) => p.comm === 'sshd' && p.state !== 'Z' && p.pid !== pid);
    const fromDaemon = new Set(pid ? descendants(pid).map((p) => p.pid) : []);
    const userRe = new RegExp(`^sshd: ${this.user}[ @]`);
    return procs.filter((p) => fromDaemon.has(p.pid) || userRe.test(cmdlineOf(p.pid) ?? ''));
  }

  dropConnections(): void {
    for (const p of this.sessionProcs()) killQuietly(p.pid, 'SIGKILL');
  }

  freezeConnections(): void {
    this.frozen = this.sessionProcs().map((p) => p.pid);
    for (const pid of this.frozen) killQuietly(pid, 'SIGSTOP');
  }

  thawConnections(): void {
    for (const pid of this.frozen) killQuietly(pid, 'SIGCONT');
    this.frozen = [];
  }

  logs(): string {
    return this.logText;
  }

  cleanupSync(): void {
    if (this.stopped) return;
    this.stopped = true;
    live.delete(this);
    this.thawConnections();
    if (this.child?.pid) killQuietly(this.child.pid, 'SIGKILL');
    this.child = null;
    cleanupState(this.dir, this.user, this.home);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.thawConnections();
    await this.stopDaemon();
    this.cleanupSync();
  }
}

export async function startSshd(opts: StartSshdOptions = {}): Promise<SshdInstance> {
  const why = sshdUnavailableReason();
  if (why) throw new Error(why);
  const address = opts.address ?? '127.0.0.1';
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address)) throw new Error(`startSshd: ${address} is not a loopback address (127.x.x.x)`);
  installExitHook();
  sweepStale();

  const user = USER_PREFIX + randomBytes(3).toString('hex');
  const home = path.join(tmpdir(), user);
  const dir = path.join(tmpdir(), STATE_PREFIX + user.slice(USER_PREFIX.length));
  mkdirSync(dir, { mode: 0o755 });
  // Owner record first: if this process dies mid-way, the next run's sweep removes the rest.
  writeFileSync(path.join(dir, 'owner.json'), JSON.stringify({ ownerPid: process.pid, user, home } satisfies OwnerRecord));
  chmodSync(dir, 0o755); // the user must reach authorized_keys (sshd reads it as the user)

  let inst: SshdInstanceImpl | null = null;
  try {
    runWithLockRetry(['useradd', '-m', '-d', home, '-s', '/bin/sh', '-p', '*', user]);
    const uid = uidOf(user);
    if (uid === null) throw new Error(`useradd ${user} did not create the user`);
    const gid = statSync(home).gid;

    let keys: SshdKeys;
    if (opts.shareKeysWith) {
      keys = opts.shareKeysWith.keys;
    } else {
      keys = {
        plain: path.join(dir, 'id_plain'),
        encrypted: path.join(dir, 'id_encrypted'),
        passphrase: CLIENT_KEY_PASSPHRASE,
        unauthorized: path.join(dir, 'id_unauthorized'),
      };
      makeKey(keys.plain, '', `${user}-plain`);
      makeKey(keys.encrypted, CLIENT_KEY_PASSPHRASE, `${user}-encrypted`);
      makeKey(keys.unauthorized, '', `${user}-unauthorized`);
    }
    const authorized = [keys.plain, keys.encrypted].map((k) => readFileSync(k + '.pub', 'utf8').trim()).join('\n') + '\n';
    writeFileSync(path.join(dir, 'authorized_keys'), authorized, { mode: 0o644 });

    const fakebin = path.join(home, 'fakebin');
    mkdirSync(fakebin, { recursive: true });
    if (opts.fakeNvidiaSmi !== false && existsSync(FAKE_NVIDIA_SMI)) {
      copyFileSync(FAKE_NVIDIA_SMI, path.join(fakebin, 'nvidia-smi'));
      chmodSync(path.join(fakebin, 'nvidia-smi'), 0o755);
    }
    const env: Record<string, string> = {};
    if (opts.fakeGpus !== undefined) {
      // Both: the env var reaches exec sessions, the file also reaches processes started elsewhere.
      env.FAKE_GPU_COUNT = String(opts.fakeGpus);
      writeFileSync(path.join(fakebin, 'fake-gpu-count'), `${opts.fakeGpus}\n`);
    }
    for (const f of readdirSync(fakebin)) chownSync(path.join(fakebin, f), uid, gid);
    chownSync(fakebin, uid, gid);

    let sessionPath: string;
    if (opts.withNode === false) {
      buildToolbin(path.join(dir, 'toolbin'));
      sessionPath = `${fakebin}:${path.join(dir, 'toolbin')}`;
    } else {
      sessionPath = `${fakebin}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`;
    }
    env.PATH = sessionPath;

    for (let attempt = 0; ; attempt++) {
      const port = await freePort(address);
      if (!inst) {
        inst = new SshdInstanceImpl(address, port, user, uid, home, dir, sessionPath, keys);
        live.add(inst);
        inst.newHostKey();
      }
      inst.port = port;
      inst.writeConfig(opts.extraConfig ?? [], env);
      try {
        await inst.startDaemon();
        return inst;
      } catch (err) {
        // Another process may have taken the port between probe and bind: try another one.
        if (attempt >= 5) throw err;
      }
    }
  } catch (err) {
    if (inst) await inst.stop();
    else cleanupState(dir, user, home);
    throw err;
  }
}

export interface SshdPair {
  /** The jump host (127.0.0.2). */
  jump: SshdInstance;
  /** The target (127.0.0.3), authorizing the same client keys as the jump host. */
  target: SshdInstance;
  stop(): Promise<void>;
}

/** A jump host and a target on separate loopback addresses, sharing the client keys. */
export async function startSshdPair(opts: { jump?: StartSshdOptions; target?: StartSshdOptions } = {}): Promise<SshdPair> {
  const jump = await startSshd({ address: '127.0.0.2', ...opts.jump });
  try {
    const target = await startSshd({ address: '127.0.0.3', ...opts.target, shareKeysWith: jump });
    return { jump, target, stop: async () => void (await Promise.all([target.stop(), jump.stop()])) };
  } catch (err) {
    await jump.stop();
    throw err;
  }
}
