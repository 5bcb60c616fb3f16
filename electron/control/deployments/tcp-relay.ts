import net from 'node:net';
import type { Duplex } from 'node:stream';
import { UserFacingError } from '../../../common/errors';

export interface Relay {
  port: number;
  close(): Promise<void>;
}

export interface RelayOptions {
  /** 0 picks a free port. Always bound to 127.0.0.1. */
  localPort: number;
  /** A stream to the far end for one client connection (an SSH channel); null: connect to `direct` instead. */
  connect: () => Promise<Duplex | null>;
  direct: { host: string; port: number };
}

/**
 * A local TCP listener that relays each connection to the far end. The far end is opened per
 * connection, so a relay over SSH survives a reconnect of the session in between.
 */
export async function openRelay(o: RelayOptions): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    sock.pause();
    sockets.add(sock);
    sock.on('error', () => undefined);
    sock.once('close', () => sockets.delete(sock));
    o.connect().then(
      (remote) => {
        const far: Duplex = remote ?? net.connect({ host: o.direct.host, port: o.direct.port, noDelay: true });
        if (sock.destroyed) {
          far.destroy();
          return;
        }
        far.on('error', () => sock.destroy());
        far.once('close', () => sock.destroy());
        sock.once('close', () => far.destroy());
        sock.pipe(far).pipe(sock);
        sock.resume();
      },
      () => sock.destroy(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new UserFacingError(
          'forward-failed',
          `Cannot listen on 127.0.0.1:${o.localPort}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}. Choose another local port (--port).`,
        ),
      ),
    );
    server.listen(o.localPort, '127.0.0.1', () => resolve());
  });
  let closed: Promise<void> | null = null;
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      })),
  };
}
