/** One printed figure of `npm run bench`: the measured value beside its goal and a same-run baseline. */
export interface BenchRow {
  figure: string;
  value: number;
  unit: string;
  goal: string;
  baseline: number | null;
  baselineLabel: string;
}
