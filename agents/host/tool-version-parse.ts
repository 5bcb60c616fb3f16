/** Version lines of the other tools host.info reports. Each returns null when the text has no version. */

/** `ucx_info -v`: "# Library version: 1.16.0" (older releases: "# UCT version=1.9.0 revision 1d0a420"). */
export function parseUcxInfoVersion(text: string): string | null {
  const m = /Library version:\s*(\d[\w.-]*)/i.exec(text) ?? /UC[TPS] version\s*=\s*(\d[\w.-]*)/i.exec(text) ?? /version\s*[:=]?\s*(\d+\.\d+[\w.-]*)/i.exec(text);
  return m?.[1] ?? null;
}

/** `docker --version`: "Docker version 24.0.7, build afdd53b" (podman's docker shim: "podman version 4.3.1"). */
export function parseDockerVersion(text: string): string | null {
  const m = /version\s+v?(\d[\w.+~-]*?)(?:,|\s|$)/i.exec(text);
  return m?.[1] ?? null;
}

/** `nvcc --version`: "Cuda compilation tools, release 12.4, V12.4.131". */
export function parseNvccVersion(text: string): { version: string; release: string } | null {
  const m = /release\s+(\d+(?:\.\d+)*)(?:,\s*V(\d[\w.]*))?/i.exec(text);
  if (!m?.[1]) return null;
  return { release: m[1], version: m[2] ?? m[1] };
}
