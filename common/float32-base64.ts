import { UserFacingError } from './errors';

/**
 * Columns of numbers as little-endian float32, base64 (runs.series): a 100,000-value column is
 * 533 kB of text that JSON and schema checks pass over in a blink. NaN marks a missing value.
 */

export function encodeFloat32(values: ArrayLike<number>): string {
  const view = new DataView(new ArrayBuffer(values.length * 4));
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  const bytes = new Uint8Array(view.buffer);
  // btoa takes a "binary string"; build it in slices to stay under argument-count limits.
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

export function decodeFloat32(b64: string, count: number, name: string): Float32Array {
  const bin = atob(b64);
  if (bin.length !== count * 4) {
    throw new UserFacingError('bad-run-series', `The ${name} column of the run's chart data holds ${bin.length / 4} values, not ${count}. Reload the run; if it persists, restart Handoff.`);
  }
  const view = new DataView(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) view.setUint8(i, bin.charCodeAt(i));
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

