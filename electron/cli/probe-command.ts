import type { Command } from 'commander';
import { UserFacingError } from '../../common/errors';
import { FabricProbeRecord, KvprobeImplementationChoice, type FabricProbeParams } from '../../common/kv/fabric-probe';
import { KvprobeMode } from '../../common/kv/kvprobe-result';
import { withController } from './cli-controller';
import { followWithCancel } from './follow-task';

interface ProbeFlags {
  src: string;
  dst: string;
  model?: string;
  tp?: string;
  blockSize?: string;
  layers?: string;
  kvHeads?: string;
  headDim?: string;
  dtypeBytes?: string;
  blocks?: string;
  modes?: string;
  iterations?: string;
  implementation?: string;
  json?: boolean;
}

function int(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UserFacingError('usage', `${flag} must be a whole number, got "${value}".`);
  return Number(value);
}

/** Turns the flags into hosts.fabricProbe params; the controller validates them again with the schema. */
export function probeParamsFromFlags(host: string, f: ProbeFlags): FabricProbeParams {
  const shapeFlags = [f.layers, f.kvHeads, f.headDim];
  if (f.model && shapeFlags.some((v) => v !== undefined)) throw new UserFacingError('usage', 'Give either --model or the shape (--layers, --kv-heads, --head-dim), not both.');
  if (!f.model && shapeFlags.some((v) => v === undefined)) {
    throw new UserFacingError('usage', 'Give --model NAME (a built-in model) or the whole shape: --layers N --kv-heads N --head-dim N [--dtype-bytes 2] [--block-size 16].');
  }
  const modes = f.modes?.split(',').filter(Boolean).map((m) => {
    const r = KvprobeMode.safeParse(m);
    if (!r.success) throw new UserFacingError('usage', `Unknown mode "${m}"; use ${KvprobeMode.options.join(', ')}.`);
    return r.data;
  });
  const blockCounts = f.blocks?.split(',').filter(Boolean).map((b) => int(b, '--blocks')!);
  const implParsed = KvprobeImplementationChoice.optional().safeParse(f.implementation);
  if (!implParsed.success) throw new UserFacingError('usage', '--implementation must be auto, native or torch.');
  const impl = implParsed.data;
  const common = {
    host,
    srcGpu: int(f.src, '--src')!,
    dstGpu: int(f.dst, '--dst')!,
    ...(blockCounts ? { blockCounts } : {}),
    ...(modes ? { modes } : {}),
    ...(f.iterations ? { iterations: int(f.iterations, '--iterations')! } : {}),
    ...(impl ? { implementation: impl } : {}),
  };
  if (f.model) {
    return { ...common, model: f.model, ...(f.tp ? { tp: int(f.tp, '--tp')! } : {}), ...(f.blockSize ? { blockSize: int(f.blockSize, '--block-size')! } : {}) };
  }
  return {
    ...common,
    shape: {
      layers: int(f.layers, '--layers')!,
      kvHeadsPerRank: int(f.kvHeads, '--kv-heads')!,
      headDim: int(f.headDim, '--head-dim')!,
      dtypeBytes: int(f.dtypeBytes ?? '2', '--dtype-bytes')!,
      blockSize: int(f.blockSize ?? '16', '--block-size')!,
    },
  };
}

export function formatFabricRecord(r: FabricProbeRecord): string {
  const res = r.result;
  const lines = [
    `${r.host} GPU ${r.srcGpu} → GPU ${r.dstGpu}: ${r.link.topo ?? 'link unknown'} (${r.link.description}${r.link.expectedGbPerS !== null ? ` expected ~${r.link.expectedGbPerS} GB/s` : ''})`,
    `block: ${res.shape.bytesPerBlock} bytes, ${res.shape.piecesPerBlock} pieces${r.model ? ` (${r.model}, TP ${r.tp ?? 1})` : ''}; ${res.implementation} kvprobe via ${r.provenance.via} (${res.producerVersion})`,
    'MODE          BLOCKS  P50 µs/BLOCK  P99 µs/BLOCK    GB/s',
    ...res.measurements.map((m) => `${m.mode.padEnd(12)}  ${String(m.blocks).padStart(6)}  ${m.perBlockUs.p50.toFixed(2).padStart(12)}  ${m.perBlockUs.p99.toFixed(2).padStart(12)}  ${m.gbPerS.toFixed(1).padStart(6)}`),
    ...res.skipped.map((s) => `skipped ${s.mode}: ${s.reason}`),
    ...r.provenance.notes.map((n) => `note: ${n}`),
    `${r.verdict.level === 'slow' ? 'WARNING: ' : ''}${r.verdict.message}`,
  ];
  return lines.join('\n') + '\n';
}

export function registerProbeCommand(program: Command): void {
  program
    .command('probe')
    .argument('<host>', 'a saved host')
    .requiredOption('--src <gpu>', 'source GPU (the prefill side)')
    .requiredOption('--dst <gpu>', 'destination GPU (the decode side)')
    .option('--model <name>', 'take the KV block shape from a built-in model config')
    .option('--tp <n>', 'tensor parallelism of the worker holding the KV (with --model; default 1)')
    .option('--block-size <tokens>', 'tokens per KV block (default 16)')
    .option('--layers <n>', 'layers (shape without --model)')
    .option('--kv-heads <n>', 'KV heads per rank (shape without --model)')
    .option('--head-dim <n>', 'head dimension (shape without --model)')
    .option('--dtype-bytes <n>', 'bytes per KV element (default 2)')
    .option('--blocks <list>', 'block counts, e.g. 1,16,188 (default 1, 16 and a 3,000-token prompt)')
    .option('--modes <list>', 'per-piece,gather,contiguous,host-staged (default all)')
    .option('--iterations <n>', 'timed iterations per measurement')
    .option('--implementation <which>', 'auto (default), native or torch')
    .option('--json', 'print the stored record as JSON')
    .description('Measure KV-block copies between two GPUs of a host (the fabric ceiling NIXL should approach); the result is kept with the host')
    .action(async (host: string, flags: ProbeFlags) => {
      const params = probeParamsFromFlags(host, flags);
      await withController(async (c) => {
        const task = await c.call('hosts.fabricProbe', params);
        const done = await followWithCancel(c, task, { json: !!flags.json, cancelMessage: 'Stopping the probe…' });
        if (done.state !== 'succeeded') {
          const err = done.error ?? { code: 'internal', message: 'The probe did not finish.' };
          if (flags.json) process.stdout.write(JSON.stringify({ ok: false, error: err }, null, 2) + '\n');
          throw new UserFacingError(err.code, err.message);
        }
        const record = FabricProbeRecord.parse(done.result);
        process.stdout.write(flags.json ? JSON.stringify(record, null, 2) + '\n' : formatFabricRecord(record));
      });
    });
}
