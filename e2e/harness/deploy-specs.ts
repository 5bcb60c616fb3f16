import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

/**
 * The shipped mocker example, moved onto test hosts and free ports, for deployment tests and
 * benchmarks (the example file itself stays as users see it).
 */
export const EXAMPLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples/mocker-disaggregated.yaml');

/** The first of `count` consecutive ports free on every loopback address (bound on 0.0.0.0 to be sure). */
export async function freePortRun(count: number): Promise<number> {
  const tryBind = (port: number) =>
    new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '0.0.0.0', () => srv.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await tryBind(p);
    if (ok) return base;
  }
  throw new Error('no free port run found');
}

/** The example spec, with its hosts and ports moved so that parallel tests on this machine never collide. */
export async function exampleSpec(hosts: { prefill: string; decode: string; router?: string }): Promise<{ text: string; ports: { prefill: number; decode: number; router: number } }> {
  const spec = YAML.parse(await fs.readFile(EXAMPLE, 'utf8')) as {
    workers: Array<{ role: string; host?: string; port?: number }>;
    router: { port: number; host?: string };
    kvTransfer: { sideChannelBasePort?: number };
  };
  const base = await freePortRun(6);
  const ports = { prefill: base, decode: base + 1, router: base + 2 };
  for (const w of spec.workers) {
    w.host = w.role === 'prefill' ? hosts.prefill : hosts.decode;
    w.port = w.role === 'prefill' ? ports.prefill : ports.decode;
  }
  spec.router.port = ports.router;
  if (hosts.router) spec.router.host = hosts.router;
  spec.kvTransfer.sideChannelBasePort = base + 3;
  return { text: YAML.stringify(spec), ports };
}

