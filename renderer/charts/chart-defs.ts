import { seriesName, sumName, type SeriesName } from './deployment-series';

export interface LineDef {
  series: SeriesName;
  label: string;
  color: string;
  /** Multiplies values for display (a ratio shown in %). */
  scale?: number;
}

export interface ChartDef {
  id: 'requests' | 'ttft' | 'itl' | 'kv-cache' | 'queue' | 'remote-prefill' | 'kv-bytes';
  title: string;
  unit: 'req/s' | 'ms' | '%' | 'requests' | 'B/s';
  lines: LineDef[];
  /** Fixed y range (percentages); otherwise from the data. */
  yMax?: number;
  /** Why the chart has nothing to show in this deployment, instead of an empty plot. */
  notApplicable?: string;
  /** What the numbers are, in one line under the title. */
  help: string;
  /** Shown while samples arrive but this chart has no value yet. */
  emptyHint?: string;
}

const PALETTE = ['#2f6fde', '#d9730d', '#1d8a4e', '#9b51e0', '#c2372f', '#0f8b8d', '#8a6d1d', '#5b6472'];

interface ProcessLike {
  name: string;
  role: string;
}

/**
 * The seven live charts of a deployment view (issue 4 §7), from the series that
 * deployment-series.ts keeps: the router's view of requests and TTFT, the workers' ITL, KV cache
 * and queues, and the KV handoff. Metric names and formulas: docs/metrics.md.
 */
export function chartsFor(processes: readonly ProcessLike[], mode: 'aggregated' | 'disaggregated'): ChartDef[] {
  const router = processes.find((p) => p.role === 'router')?.name;
  const workers = processes.filter((p) => p.role !== 'router');
  const decoders = workers.filter((p) => p.role === 'decode' || p.role === 'both' || p.role === 'worker');
  const color = (i: number) => PALETTE[i % PALETTE.length]!;
  const aggregated = mode === 'aggregated';
  return [
    {
      id: 'requests',
      title: 'Requests/s',
      unit: 'req/s',
      help: router ? 'Completed by the router, per second.' : 'Completed by the workers, per second.',
      lines: [{ series: router ? seriesName(router, 'requestsPerS') : sumName('requestsPerS'), label: 'requests/s', color: color(0) }],
    },
    {
      id: 'ttft',
      title: 'Time to first token',
      unit: 'ms',
      help: router ? 'p50 and p99 of streaming requests over each interval, measured at the router.' : 'p50 and p99 over each interval.',
      emptyHint: router ? 'No values yet: the router measures TTFT of streaming requests.' : 'No values yet: they appear once requests flow.',
      lines: router
        ? [
            { series: seriesName(router, 'ttftP50Ms'), label: 'p50', color: color(0) },
            { series: seriesName(router, 'ttftP99Ms'), label: 'p99', color: color(1) },
          ]
        : decoders.flatMap((p, i) => [
            { series: seriesName(p.name, 'ttftP50Ms'), label: `${p.name} p50`, color: color(2 * i) },
            { series: seriesName(p.name, 'ttftP99Ms'), label: `${p.name} p99`, color: color(2 * i + 1) },
          ]),
    },
    {
      id: 'itl',
      title: 'Inter-token latency',
      unit: 'ms',
      help: 'Between consecutive output tokens on the decoding workers, over each interval.',
      lines:
        decoders.length === 1
          ? [
              { series: seriesName(decoders[0]!.name, 'itlP50Ms'), label: 'p50', color: color(0) },
              { series: seriesName(decoders[0]!.name, 'itlMeanMs'), label: 'mean', color: color(1) },
            ]
          : decoders.map((p, i) => ({ series: seriesName(p.name, 'itlP50Ms'), label: `${p.name} p50`, color: color(i) })),
    },
    {
      id: 'kv-cache',
      title: 'KV cache usage',
      unit: '%',
      yMax: 100,
      help: 'Share of each worker\'s KV cache blocks in use.',
      lines: workers.map((p, i) => ({ series: seriesName(p.name, 'kvCacheUsagePct'), label: p.name, color: color(i) })),
    },
    {
      id: 'queue',
      title: 'Running / waiting',
      unit: 'requests',
      help: 'Requests being processed and queued, summed over the workers.',
      lines: [
        { series: sumName('requestsRunning'), label: 'running', color: color(0) },
        { series: sumName('requestsWaiting'), label: 'waiting', color: color(1) },
      ],
    },
    {
      id: 'remote-prefill',
      title: 'Remote prefill',
      unit: '%',
      yMax: 100,
      help: 'Share of requests prefilled on a prefill worker rather than locally on decode.',
      lines: router && !aggregated ? [{ series: seriesName(router, 'remotePrefillRatio'), label: 'remote', color: color(2), scale: 100 }] : [],
      ...(aggregated ? { notApplicable: 'Aggregated deployment: every request is prefilled on the worker that decodes it.' } : {}),
    },
    {
      id: 'kv-bytes',
      title: 'KV transfer',
      unit: 'B/s',
      help: 'KV cache bytes moved from prefill to decode over NIXL, per second.',
      lines: aggregated ? [] : [{ series: sumName('kvBytesPerS'), label: 'bytes/s', color: color(2) }],
      ...(aggregated ? { notApplicable: 'Aggregated deployment: no KV cache is handed between workers.' } : {}),
    },
  ];
}

/** Axis labels: the number only (the unit is in the chart's title), bytes with a short binary prefix. */
export function formatAxis(v: number, unit: ChartDef['unit']): string {
  if (!Number.isFinite(v)) return '';
  if (unit === 'B/s') {
    const prefixes = ['', 'K', 'M', 'G', 'T'];
    let x = Math.abs(v);
    let i = 0;
    while (x >= 1024 && i < prefixes.length - 1) {
      x /= 1024;
      i++;
    }
    return `${v < 0 ? '-' : ''}${x >= 100 || x === 0 ? x.toFixed(0) : x.toFixed(1)}${prefixes[i]}`;
  }
  const a = Math.abs(v);
  return a >= 1e6 ? `${(v / 1e6).toFixed(1)}M` : a >= 1e4 ? `${(v / 1e3).toFixed(0)}k` : a >= 100 || a === 0 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** "1.2 k", "3.4 M": axis and headline numbers in a few characters. */
export function formatCompact(v: number | null | undefined, unit: ChartDef['unit']): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (unit === 'B/s') {
    const units = ['B/s', 'KiB/s', 'MiB/s', 'GiB/s', 'TiB/s'];
    let x = Math.abs(v);
    let i = 0;
    while (x >= 1024 && i < units.length - 1) {
      x /= 1024;
      i++;
    }
    const s = x >= 100 || i === 0 ? x.toFixed(0) : x.toFixed(1);
    return `${v < 0 ? '-' : ''}${s} ${units[i]}`;
  }
  const a = Math.abs(v);
  const num = a >= 1e6 ? `${(v / 1e6).toFixed(1)} M` : a >= 1e4 ? `${(v / 1e3).toFixed(1)} k` : a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
  return unit === 'req/s' || unit === 'requests' ? num : `${num} ${unit}`;
}
