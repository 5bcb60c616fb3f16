/**
 * The renderer's Content-Security-Policy, for both carriers: the Electron app protocol and
 * `handoff serve`. Nothing outside the app's own origin is ever loaded (no fonts, no CDNs); the
 * only network access is the API WebSocket in browser mode.
 */
export function rendererCsp(opts: { connectSrc: readonly string[] }): string {
  const connect = opts.connectSrc.length > 0 ? opts.connectSrc.join(' ') : "'none'";
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${connect}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}
