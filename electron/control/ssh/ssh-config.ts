import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SSHConfig from 'ssh-config';
import { UserFacingError } from '../../../common/errors';
import { parseSshTarget, type SshTarget } from '../../../common/host';

/**
 * `~/.ssh/config` as OpenSSH reads it for one destination (ssh_config(5)): the first value of
 * each option wins across matching Host blocks, IdentityFile accumulates. ssh2 reads no config
 * at all, so the controller resolves aliases here (the `ssh-config` package does the matching).
 * Only the options Handoff honours are returned: HostName, User, Port, IdentityFile, ProxyJump.
 */
export interface ResolvedSshHost {
  /** What the user typed (the Host alias or a real name). */
  alias: string;
  /** HostName from the config, or the alias itself. */
  host: string;
  user?: string;
  port?: number;
  /** Absolute paths after `~` and `%` expansion, in config order. */
  identityFiles: string[];
  /** ProxyJump hops in order (empty when none, or `ProxyJump none`). */
  proxyJump: SshTarget[];
}

export interface SshConfigOptions {
  /** Defaults to ~/.ssh/config; a missing file means "no config". */
  configFile?: string;
  /** The remote user already chosen (e.g. typed as USER@HOST); it wins over the config's User. */
  user?: string;
  homeDir?: string;
  localUser?: string;
}

const MAX_INCLUDE_DEPTH = 16; // OpenSSH's READCONF_MAX_DEPTH

export function defaultSshConfigFile(homeDir = os.homedir()): string {
  return path.join(homeDir, '.ssh', 'config');
}

function expandTilde(p: string, homeDir: string): string {
  if (p === '~') return homeDir;
  if (p.startsWith('~/')) return path.join(homeDir, p.slice(2));
  return p;
}

/** `%` tokens of ssh_config(5) TOKENS that make sense before connecting. */
export function expandTokens(
  value: string,
  t: { homeDir: string; host: string; localUser: string; remoteUser: string; port: number; alias: string },
): string {
  return value.replace(/%(.)/g, (whole, c: string) => {
    switch (c) {
      case '%': return '%';
      case 'd': return t.homeDir;
      case 'h': return t.host;
      case 'u': return t.localUser;
      case 'r': return t.remoteUser;
      case 'p': return String(t.port);
      case 'n': return t.alias;
      case 'l': return os.hostname().split('.')[0] ?? '';
      case 'L': return os.hostname();
      default:
        throw new UserFacingError('ssh-config-invalid', `~/.ssh/config uses the token "${whole}" in "${value}", which Handoff does not support. Write the value out in full.`);
    }
  });
}

async function readIfExists(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new UserFacingError('ssh-config-unreadable', `Cannot read the SSH config ${file}: ${(err as Error).message}. Fix its permissions or pass a different config file.`);
  }
}

/** Files an `Include` argument names: relative paths are under ~/.ssh; `*`/`?` in the last part. */
async function includeTargets(arg: string, homeDir: string): Promise<string[]> {
  const abs = path.isAbsolute(expandTilde(arg, homeDir)) ? expandTilde(arg, homeDir) : path.join(homeDir, '.ssh', arg);
  const base = path.basename(abs);
  if (!/[*?]/.test(base)) return [abs];
  let names: string[];
  try {
    names = await fs.readdir(path.dirname(abs));
  } catch {
    return [];
  }
  const re = new RegExp('^' + base.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
  return names.filter((n) => re.test(n)).sort().map((n) => path.join(path.dirname(abs), n));
}

/** Config text with `Include` lines replaced by the included files (the parser knows no Include). */
async function loadWithIncludes(file: string, homeDir: string, depth = 0): Promise<string> {
  if (depth > MAX_INCLUDE_DEPTH) {
    throw new UserFacingError('ssh-config-invalid', `~/.ssh/config includes files more than ${MAX_INCLUDE_DEPTH} levels deep (an Include loop?). Check the Include lines.`);
  }
  const text = await readIfExists(file);
  if (text === null) return '';
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*include\s*[ =]\s*(.+?)\s*$/i.exec(line);
    if (!m) {
      out.push(line);
      continue;
    }
    for (const arg of m[1]!.split(/\s+/)) {
      for (const inc of await includeTargets(arg.replace(/^"|"$/g, ''), homeDir)) {
        out.push(await loadWithIncludes(inc, homeDir, depth + 1));
      }
    }
  }
  return out.join('\n');
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function all(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

export function parseProxyJump(value: string | undefined): SshTarget[] {
  if (!value || value.toLowerCase() === 'none') return [];
  return value.split(',').map((hop) => {
    const t = parseSshTarget(hop.replace(/^ssh:\/\//, ''));
    if (!t) {
      throw new UserFacingError('ssh-config-invalid', `ProxyJump "${value}" in ~/.ssh/config has a hop "${hop}" that is not [USER@]HOST[:PORT]. Fix that line.`);
    }
    return t;
  });
}

export async function resolveSshConfig(alias: string, opts: SshConfigOptions = {}): Promise<ResolvedSshHost> {
  const homeDir = opts.homeDir ?? os.homedir();
  const localUser = opts.localUser ?? os.userInfo().username;
  const file = opts.configFile ?? defaultSshConfigFile(homeDir);
  const text = await loadWithIncludes(file, homeDir);
  let computed: Record<string, string | string[]>;
  try {
    const cfg = SSHConfig.parse(text);
    // matchExec off: resolving a host must never run commands from a config file.
    computed = cfg.compute({ Host: alias, ...(opts.user ? { User: opts.user } : {}) }, { ignoreCase: true, matchExec: false });
  } catch (err) {
    if (err instanceof UserFacingError) throw err;
    throw new UserFacingError('ssh-config-invalid', `Cannot parse the SSH config ${file}: ${(err as Error).message}. Fix the file or pass a different one.`);
  }

  const portText = first(computed.port);
  let port: number | undefined;
  if (portText !== undefined) {
    port = Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new UserFacingError('ssh-config-invalid', `Port "${portText}" for host ${alias} in ${file} is not a port number (1-65535). Fix that line.`);
    }
  }
  const user = opts.user ?? first(computed.user);
  const hostNameRaw = first(computed.hostname);
  const tokens = { homeDir, localUser, remoteUser: user ?? localUser, port: port ?? 22, alias, host: alias };
  const host = hostNameRaw ? expandTokens(hostNameRaw, tokens) : alias;
  const identityFiles = all(computed.identityfile).map((f) =>
    path.resolve(expandTilde(expandTokens(f.replace(/^"|"$/g, ''), { ...tokens, host }), homeDir)),
  );
  return {
    alias,
    host,
    ...(user ? { user } : {}),
    ...(port ? { port } : {}),
    identityFiles,
    proxyJump: parseProxyJump(first(computed.proxyjump)),
  };
}
