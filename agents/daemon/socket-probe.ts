import net from 'node:net';

/** Linux sun_path holds 108 bytes including the terminating NUL. */
export const MAX_UNIX_SOCKET_PATH_BYTES = 107;

export type SocketState = 'alive' | 'stale' | 'absent';

/** Connects to a unix socket; rejects with the connect error (ENOENT: no socket, ECONNREFUSED: nobody listening). */
export function connectUnix(socketPath: string, timeoutMs = 2_000): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ path: socketPath, allowHalfOpen: true });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(Object.assign(new Error(`connecting to ${socketPath} timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      resolve(sock);
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      sock.destroy();
      reject(err);
    });
  });
}

/** Whether a daemon answers on the socket, a dead one left the file behind, or there is none. */
export async function probeSocket(socketPath: string): Promise<SocketState> {
  try {
    const sock = await connectUnix(socketPath);
    sock.destroy();
    return 'alive';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'absent';
    if (code === 'ECONNREFUSED') return 'stale';
    throw err;
  }
}
