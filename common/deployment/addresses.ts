/** Address facts the planner needs to decide what another host can reach. */

export function isLoopbackAddress(addr: string): boolean {
  const a = addr.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return a === 'localhost' || a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a) || a.endsWith('.localhost');
}

/** Bind-any addresses: fine to listen on, meaningless to advertise to a peer. */
export function isUnspecifiedAddress(addr: string): boolean {
  const a = addr.trim().replace(/^\[|\]$/g, '');
  return a === '0.0.0.0' || a === '::' || a === '*' || a === '';
}

/** `host:port` for a URL (IPv6 literals in brackets). */
export function urlHost(addr: string): string {
  return addr.includes(':') && !addr.startsWith('[') ? `[${addr}]` : addr;
}
