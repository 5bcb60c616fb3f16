import path from 'node:path';
import { NixlTelemetryWriter, telemetryCapacityFromEnv, telemetryEnabled } from '../telemetry/nixl-telemetry-writer';
import type { XferRecord } from './nixl-sim';

/**
 * The mocker's NIXL telemetry: with NIXL_TELEMETRY_ENABLE and NIXL_TELEMETRY_DIR set, one cyclic
 * buffer file per simulated TP rank (NIXL names each file after its agent; vLLM runs one agent per
 * rank), one transfer batch per simulated read, times from the latency model in whole µs as NIXL
 * records them. docs/nixl-telemetry.md.
 */
export class NixlTelemetrySink {
  private readonly writers = new Map<number, NixlTelemetryWriter>();

  private constructor(
    private readonly dir: string,
    private readonly agentPrefix: string,
    private readonly capacity: number,
  ) {}

  /** Null unless the environment turns NIXL telemetry on with a directory (NIXL's buffer exporter). */
  static fromEnv(env: NodeJS.ProcessEnv, engineId: string): NixlTelemetrySink | null {
    const dir = env['NIXL_TELEMETRY_DIR'];
    if (!telemetryEnabled(env) || !dir) return null;
    const exporter = env['NIXL_TELEMETRY_EXPORTER'];
    if (exporter !== undefined && exporter !== '' && exporter.toUpperCase() !== 'BUFFER') return null;
    return new NixlTelemetrySink(dir, `mocker-${engineId.replace(/[^A-Za-z0-9._-]/g, '_')}`, telemetryCapacityFromEnv(env));
  }

  record(rank: number, r: XferRecord): void {
    let w = this.writers.get(rank);
    if (!w) {
      w = new NixlTelemetryWriter(path.join(this.dir, `${this.agentPrefix}-rank${rank}`), this.capacity);
      this.writers.set(rank, w);
    }
    w.recordTransfer({ postUs: Math.round(r.postS * 1e6), xferUs: Math.round(r.xferS * 1e6), bytes: Math.round(r.bytes) });
  }

  close(): void {
    for (const w of this.writers.values()) w.close();
    this.writers.clear();
  }
}
