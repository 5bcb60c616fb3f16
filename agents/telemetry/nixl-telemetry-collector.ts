import { NIXL_FLUSH_INTERVAL_MS } from '../../common/kv/nixl-telemetry-layout';
import fs from 'node:fs';
import path from 'node:path';
import { UserFacingError } from '../../common/errors';
import { NixlTransferGrouper, type GrouperCounts } from '../../common/kv/nixl-telemetry-transfers';
import type { NixlTransferRecord } from '../../common/kv/nixl-transfer';
import { NixlTelemetryFile } from './nixl-telemetry-reader';

/**
 * Reads the NIXL telemetry of a deployment's decode workers during a benchmark run: every file in
 * each worker's NIXL_TELEMETRY_DIR (one per NIXL agent, i.e. per TP rank), consumed every
 * intervalMs so NIXL's ring never fills. What was there before the run is consumed and discarded
 * at start (chat or earlier runs). Each transfer becomes one NixlTransferRecord.
 */


/** How long a new file may stay empty or header-less before it is reported as unreadable. */
const CREATE_GRACE_MS = 5_000;

export interface TelemetrySource {
  worker: string;
  dir: string;
  /** The worker's NIXL_TELEMETRY_RUN_INTERVAL: a transfer may reach the file this long after it completed. */
  flushIntervalMs?: number;
}

export interface CollectorOptions {
  sources: readonly TelemetrySource[];
  bytesPerBlock: number | null;
  intervalMs?: number;
  nowMs: () => number;
  emit: (r: NixlTransferRecord) => void;
  note: (text: string) => void;
}

export interface CollectorSummary {
  transfers: number;
  files: number;
  /** Events found before the run, discarded. */
  discardedBeforeRun: number;
  incomplete: number;
  nixlDropped: number;
  /** Reads that found the ring full: NIXL may have refused events in between. */
  fullReads: number;
  errors: Record<string, number>;
}

interface Tracked {
  reader: NixlTelemetryFile;
  grouper: NixlTransferGrouper;
  flushMs: number;
}

export class NixlTelemetryCollector {
  private readonly files = new Map<string, Tracked>();
  private readonly refused = new Set<string>();
  private readonly firstFailMs = new Map<string, { sinceMs: number; err: unknown }>();
  private timer: NodeJS.Timeout | null = null;
  private lastReadMs: number | null = null;
  private discarded = 0;
  private fullReads = 0;
  private stopped = false;

  constructor(private readonly o: CollectorOptions) {}

  /** Drains what is already there, then reads every intervalMs. */
  start(): void {
    this.scan(true);
    this.lastReadMs = this.o.nowMs();
    this.timer = setInterval(() => this.readAll(), this.o.intervalMs ?? 250);
    this.timer.unref();
  }

  async stop(): Promise<CollectorSummary> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (!this.stopped) {
      this.stopped = true;
      // NIXL stages events and flushes them on its own timer: wait one flush so the run's last transfers reach the file.
      const flushMs = Math.max(0, ...this.o.sources.map((src) => src.flushIntervalMs ?? NIXL_FLUSH_INTERVAL_MS));
      await new Promise((r) => setTimeout(r, flushMs * 2));
      this.readAll();
      for (const [file, f] of this.firstFailMs) if (!this.files.has(file)) this.refuse(file, f.err);
      for (const t of this.files.values()) {
        t.grouper.flush();
        t.reader.close();
      }
    }
    return this.summary();
  }

  summary(): CollectorSummary {
    const s: CollectorSummary = { transfers: 0, files: this.files.size, discardedBeforeRun: this.discarded, incomplete: 0, nixlDropped: 0, fullReads: this.fullReads, errors: {} };
    for (const t of this.files.values()) {
      const c: GrouperCounts = t.grouper.counts;
      s.transfers += c.transfers;
      s.incomplete += c.incomplete;
      s.nixlDropped += c.nixlDropped;
      for (const [k, v] of Object.entries(c.errors)) s.errors[k] = (s.errors[k] ?? 0) + v;
    }
    return s;
  }

  private readAll(): void {
    const now = this.o.nowMs();
    this.scan(false);
    for (const [file, t] of this.files) {
      t.grouper.atMs = now;
      t.grouper.atEarliestMs = this.lastReadMs === null ? undefined : Math.max(0, this.lastReadMs - t.flushMs);
      this.readOne(file, t, false);
    }
    this.lastReadMs = now;
  }

  private readOne(file: string, t: Tracked, discard: boolean): void {
    try {
      const p = t.reader.poll();
      if (p.full) {
        this.fullReads++;
        if (this.fullReads === 1) this.o.note(`The NIXL telemetry ring of ${file} was full when read (${p.header.capacity} slots): NIXL drops events while it is full, so some transfers may be missing. Raise NIXL_TELEMETRY_BUFFER_SIZE on the workers.`);
      }
      if (discard) this.discarded += p.count;
      else t.grouper.feed(p.types, p.values, p.count);
    } catch (err) {
      this.refuse(file, err);
      t.reader.close();
      this.files.delete(file);
    }
  }

  private refuse(file: string, err: unknown): void {
    if (this.refused.has(file)) return;
    this.refused.add(file);
    const msg = err instanceof UserFacingError || err instanceof Error ? err.message : String(err);
    this.o.note(`NIXL telemetry not read from ${file}: ${msg}`);
  }

  /** Picks up files NIXL agents created since the last scan (a worker starts its agent lazily). */
  private scan(discard: boolean): void {
    for (const src of this.o.sources) {
      let names: string[];
      try {
        names = fs.readdirSync(src.dir);
      } catch {
        continue;
      }
      for (const name of names) {
        const file = path.join(src.dir, name);
        if (this.files.has(file) || this.refused.has(file)) continue;
        let st: fs.Stats;
        try {
          st = fs.statSync(file);
        } catch {
          continue;
        }
        if (!st.isFile()) continue;
        let reader: NixlTelemetryFile;
        try {
          reader = new NixlTelemetryFile(file, true);
        } catch (err) {
          this.refuse(file, err);
          continue;
        }
        try {
          reader.readHeader();
          this.firstFailMs.delete(file);
        } catch (err) {
          reader.close();
          // A file NIXL is still creating: empty, or zeros until its header is written.
          const code = err instanceof UserFacingError ? err.code : '';
          const since = this.firstFailMs.get(file)?.sinceMs ?? this.o.nowMs();
          this.firstFailMs.set(file, { sinceMs: since, err });
          if ((code === 'nixl-telemetry-uninitialised' || code === 'nixl-telemetry-truncated') && this.o.nowMs() - since < CREATE_GRACE_MS) continue;
          this.refuse(file, err);
          continue;
        }
        const t: Tracked = { reader, grouper: new NixlTransferGrouper({ worker: src.worker, agent: name, bytesPerBlock: this.o.bytesPerBlock }, this.o.emit), flushMs: src.flushIntervalMs ?? NIXL_FLUSH_INTERVAL_MS };
        this.files.set(file, t);
        if (discard) this.readOne(file, t, true);
      }
    }
  }
}
