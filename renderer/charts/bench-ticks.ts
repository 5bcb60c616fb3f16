/**
 * Axis tick labels that carry their unit and just enough decimals to tell neighbouring ticks
 * apart: `0.5 s`, `831 ms`, `5.862 µs`. Milliseconds switch to seconds from 2 s up so an axis never
 * mixes the two.
 */
export function unitTicks(lo: number, hi: number, unit: string): (v: number) => string {
  const seconds = unit === 'ms' && Math.max(Math.abs(lo), Math.abs(hi)) >= 2000;
  const scale = seconds ? 1000 : 1;
  const shown = seconds ? 's' : unit;
  // About five ticks: the step between them decides the decimals.
  const step = Math.abs(hi - lo) / scale / 4;
  const decimals = !(step > 0) ? 2 : step >= 10 ? 0 : step >= 1 ? 1 : step >= 0.1 ? 2 : step >= 0.01 ? 3 : 4;
  return (v: number) => `${(v / scale).toFixed(decimals)}${shown ? ` ${shown}` : ''}`;
}
