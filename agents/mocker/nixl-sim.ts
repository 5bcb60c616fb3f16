/**
 * A simulated NixlConnector (pull mode) with a real side channel. reference/vllm-disagg.md §1.8, §2.
 *
 * Producer (P): when a `do_remote_decode` request finishes it pins the request's blocks under a
 * lease and returns the kv_transfer_params dict. Blocks are freed when every decode worker has
 * sent its `"<remote_request_id>:<tp_size>"` notification, or when the lease expires
 * ("Releasing expired KV blocks…", vllm:nixl_num_kv_expired_reqs). Heartbeats from a consumer
 * whose request is still queued extend the lease (vLLM ≥ the lease design; older releases used a
 * fixed VLLM_NIXL_ABORT_REQUEST_TIMEOUT).
 *
 * Consumer (D): on a `do_remote_prefill` request it handshakes with the producer's side channel
 * at remote_host:remote_port (cached per remote engine id), checks the engine id, compatibility
 * hash and block size as vLLM does, "reads" the blocks for the simulated transfer time, records
 * the vllm:nixl_* telemetry and notifies the producer.
 *
 * The side channel is HTTP/JSON over TCP rather than vLLM's ZMQ/msgpack, so a mocker can only
 * hand off to a mocker; every side-channel reply carries `simulated: true`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { kvBytesPerBlock, type ModelConfig } from '../../common/model-config';
import type { ConnectorHooks, EngineRequest, RemoteLoadResult } from './engine';
import type { LatencyModel } from './latency-model';
import type { MockerMetrics } from './metrics';
import type { MockerLog } from './mocker-log';

/** NIXL_CONNECTOR_VERSION of the vLLM releases this mimics (2 = remote_request_id added). */
const NIXL_CONNECTOR_VERSION = 2;
const HANDSHAKE_TIMEOUT_MS = 5000;

export type KvRole = 'kv_producer' | 'kv_consumer' | 'kv_both';

export interface NixlSimConfig {
  role: KvRole;
  engineId: string;
  sideChannelHost: string;
  sideChannelPort: number;
  failurePolicy: 'fail' | 'recompute';
  leaseS: number;
  /** Heartbeats extend leases (vLLM's lease design); false with the older fixed abort timeout. */
  heartbeats: boolean;
  enforceHandshakeCompat: boolean;
  tp: number;
  blockSize: number;
  numBlocks: number;
  model: ModelConfig;
  vllmVersion: string;
  logStatsIntervalS: number;
  logStats: boolean;
}

const HandshakeReply = z.object({
  engine_id: z.string(),
  compatibility_hash: z.string(),
  simulated: z.literal(true),
  agent_metadata: z.object({
    engine_id: z.string(),
    num_blocks: z.number().int(),
    block_lens: z.array(z.number()),
    block_size: z.number().int(),
    kv_cache_layout: z.string(),
    tp_size: z.number().int(),
    attn_backend_name: z.string(),
  }),
});
type HandshakeReply = z.infer<typeof HandshakeReply>;

/** kv_transfer_params of a D leg as the pull scheduler validates them. */
export const RemotePrefillParams = z
  .object({
    do_remote_prefill: z.literal(true),
    remote_block_ids: z.union([z.array(z.number().int()), z.array(z.array(z.number().int()))]),
    remote_engine_id: z.string(),
    remote_request_id: z.string(),
    remote_host: z.string(),
    remote_port: z.number().int(),
    tp_size: z.number().int().positive().optional(),
  })
  .passthrough();
export type RemotePrefillParams = z.infer<typeof RemotePrefillParams>;

interface Lease {
  blockIds: number[];
  expiresAtMs: number;
  timer: NodeJS.Timeout;
  notifications: number;
}

export interface XferRecord {
  xferS: number;
  postS: number;
  bytes: number;
  descriptors: number;
}

export class NixlSim implements ConnectorHooks {
  private server: http.Server | null = null;
  private readonly leases = new Map<string, Lease>();
  private readonly handshakes = new Map<string, Promise<HandshakeReply>>();
  private readonly notified = new Set<string>();
  private readonly heartbeatWaiting = new Map<string, { host: string; port: number; ids: Set<string> }>();
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private logTimer: NodeJS.Timeout | null = null;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private interval: { xfers: XferRecord[]; failed: number; expired: number; afterExpiry: number } = { xfers: [], failed: 0, expired: 0, afterExpiry: 0 };
  readonly compatibilityHash: string;
  releaseBlocks: (blockIds: number[]) => void = () => undefined;
  /** Per-transfer telemetry sink (NIXL_TELEMETRY_DIR, agents/telemetry): one call per decode rank's handle. */
  onTransfer: ((rank: number, r: XferRecord) => void) | null = null;

  constructor(
    readonly cfg: NixlSimConfig,
    private readonly latency: LatencyModel,
    private readonly metrics: MockerMetrics,
    private readonly log: MockerLog,
    private readonly timeScale: number,
  ) {
    const m = cfg.model;
    this.compatibilityHash = createHash('sha256')
      .update(JSON.stringify([cfg.vllmVersion, NIXL_CONNECTOR_VERSION, m.name, m.dtypeBytes, m.kvHeads, m.headDim, m.layers, 'FLASH_ATTN', 'auto', false, false]))
      .digest('hex');
  }

  failurePolicy(): 'fail' | 'recompute' {
    return this.cfg.failurePolicy;
  }

  get port(): number {
    const a = this.server?.address();
    return a && typeof a === 'object' ? (a as AddressInfo).port : this.cfg.sideChannelPort;
  }

  async start(): Promise<void> {
    const server = http.createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.cfg.sideChannelPort, this.cfg.sideChannelHost, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    if (this.cfg.logStats) {
      this.logTimer = setInterval(() => this.logInterval(), this.cfg.logStatsIntervalS * 1000);
      this.logTimer.unref();
    }
    if (this.cfg.heartbeats) {
      const everyS = Math.max(0.05, this.cfg.leaseS / 6);
      this.heartbeatTimer = setInterval(() => this.sendHeartbeats(), everyS * 1000);
      this.heartbeatTimer.unref();
    }
  }

  async close(): Promise<void> {
    if (this.logTimer) clearInterval(this.logTimer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    for (const l of this.leases.values()) clearTimeout(l.timer);
    this.leases.clear();
    this.agent.destroy();
    const s = this.server;
    this.server = null;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }

  /** Number of producer requests whose blocks are pinned for a consumer. */
  get pinnedRequests(): number {
    return this.leases.size;
  }

  // ---- producer side ----

  producerFinished(req: EngineRequest, blockIds: number[]): Record<string, unknown> | null {
    if (blockIds.length > 0) this.pin(req.requestId, blockIds);
    return {
      do_remote_prefill: true,
      do_remote_decode: false,
      remote_block_ids: [blockIds],
      remote_engine_id: this.cfg.engineId,
      remote_request_id: req.requestId,
      remote_host: this.cfg.sideChannelHost,
      remote_port: this.port,
      tp_size: this.cfg.tp,
      dcp_size: 1,
      pp_size: 1,
      remote_num_tokens: blockIds.length > 0 ? req.promptTokenIds.length : 0,
      remote_blocks_expiry_time: null,
      transfer_mode: 'pull',
      // vLLM 0.32's scheduler appends P's own prefix-cache hits, so D reports them as
      // usage.prompt_tokens_details.cached_tokens instead of its ~100% hit from the transfer.
      remote_prefill_cached_tokens: req.localCacheHitTokens,
    };
  }

  private pin(requestId: string, blockIds: number[]): void {
    const expiresAtMs = Date.now() + this.cfg.leaseS * 1000;
    const lease: Lease = { blockIds, expiresAtMs, notifications: 0, timer: setTimeout(() => this.expire(requestId), this.cfg.leaseS * 1000) };
    lease.timer.unref();
    this.leases.set(requestId, lease);
  }

  private expire(requestId: string): void {
    const lease = this.leases.get(requestId);
    if (!lease) return;
    const leftMs = lease.expiresAtMs - Date.now();
    if (leftMs > 5) {
      lease.timer = setTimeout(() => this.expire(requestId), leftMs);
      lease.timer.unref();
      return;
    }
    this.leases.delete(requestId);
    this.releaseBlocks(lease.blockIds);
    this.metrics.inc(this.metrics.nixlExpired, 1);
    this.interval.expired++;
    this.log.warn(`Releasing expired KV blocks for request ${requestId} which were retrieved by ${lease.notifications} remote worker(s) before lease expired.`);
  }

  private onNotification(msg: string): void {
    const sep = msg.lastIndexOf(':');
    const requestId = sep > 0 ? msg.slice(0, sep) : msg;
    const consumers = sep > 0 ? Number(msg.slice(sep + 1)) : 1;
    const lease = this.leases.get(requestId);
    if (!lease) {
      this.metrics.inc(this.metrics.nixlNotifsAfterExpiry, 1);
      this.interval.afterExpiry++;
      this.log.warn(`Received a completion notification for request ${requestId}, which is not tracked (its KV lease may have expired).`);
      return;
    }
    lease.notifications++;
    // P frees only after every D worker has read (reference §1.7).
    if (lease.notifications >= (Number.isFinite(consumers) && consumers > 0 ? consumers : 1)) {
      clearTimeout(lease.timer);
      this.leases.delete(requestId);
      this.releaseBlocks(lease.blockIds);
    }
  }

  private onHeartbeat(ids: readonly string[]): void {
    const extendMs = Math.floor((this.cfg.leaseS * 2) / 3 * 1000);
    for (const id of ids) {
      const lease = this.leases.get(id);
      if (lease) lease.expiresAtMs = Math.max(lease.expiresAtMs, Date.now() + extendMs);
    }
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://side-channel');
    const reply = (status: number, body: unknown): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-handoff-mocker': 'simulated-nixl-side-channel' });
      res.end(text);
    };
    if (req.method === 'GET' && url.pathname === '/nixl/handshake') {
      const metadata = {
        engine_id: this.cfg.engineId,
        num_blocks: this.cfg.numBlocks,
        block_lens: [kvBytesPerBlock(this.cfg.model, this.cfg.tp, this.cfg.blockSize)],
        block_size: this.cfg.blockSize,
        kv_cache_layout: 'HND',
        tp_size: this.cfg.tp,
        attn_backend_name: 'FLASH_ATTN',
      };
      reply(200, { engine_id: this.cfg.engineId, compatibility_hash: this.compatibilityHash, simulated: true, agent_metadata: metadata });
      return;
    }
    if (req.method === 'POST' && (url.pathname === '/nixl/notify' || url.pathname === '/nixl/heartbeat')) {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= 1 << 20) chunks.push(c);
      });
      req.on('end', () => {
        if (size > 1 << 20) return reply(413, { error: 'side-channel message too large' });
        const text = Buffer.concat(chunks).toString('utf8');
        if (url.pathname === '/nixl/notify') {
          for (const line of text.split('\n')) if (line.trim()) this.onNotification(line.trim());
          return reply(200, { ok: true, simulated: true });
        }
        const parsed = z.object({ request_ids: z.array(z.string()) }).safeParse(safeJson(text));
        if (!parsed.success) return reply(400, { error: 'heartbeat body must be {"request_ids": [string, …]}' });
        this.onHeartbeat(parsed.data.request_ids);
        return reply(200, { ok: true, simulated: true });
      });
      return;
    }
    reply(404, { error: `unknown side-channel path ${url.pathname}`, simulated: true });
  }

  // ---- consumer side ----

  consumerQueued(req: EngineRequest): void {
    const parsed = RemotePrefillParams.safeParse(req.remotePrefill);
    if (!parsed.success) return;
    const p = parsed.data;
    const hb = this.heartbeatWaiting.get(p.remote_engine_id) ?? { host: p.remote_host, port: p.remote_port, ids: new Set<string>() };
    hb.ids.add(p.remote_request_id);
    this.heartbeatWaiting.set(p.remote_engine_id, hb);
  }

  private stopHeartbeat(p: RemotePrefillParams): void {
    this.heartbeatWaiting.get(p.remote_engine_id)?.ids.delete(p.remote_request_id);
  }

  async loadRemote(req: EngineRequest, locallyCachedBlocks: number): Promise<RemoteLoadResult> {
    const parsed = RemotePrefillParams.safeParse(req.remotePrefill);
    if (!parsed.success) return { ok: false, reason: 'invalid kv_transfer_params' };
    const p = parsed.data;
    const remoteBlocks = flattenBlockIds(p.remote_block_ids).length;
    try {
      try {
        await this.handshake(p.remote_engine_id, p.remote_host, p.remote_port);
      } catch (err) {
        this.handshakes.delete(p.remote_engine_id);
        throw err;
      }
      const readBlocks = Math.max(0, remoteBlocks - locallyCachedBlocks);
      if (readBlocks > 0) {
        const remoteTp = p.tp_size ?? 1;
        // Each D worker reads its slice; with P TP > D TP a D worker reads from several P workers.
        const handlesPerWorker = Math.max(1, Math.floor(remoteTp / this.cfg.tp));
        const workerTp = Math.max(remoteTp, this.cfg.tp);
        const cost = this.latency.transfer(readBlocks, workerTp);
        await sleep((cost.postS + cost.xferS) * 1000 * this.timeScale);
        for (let w = 0; w < this.cfg.tp * handlesPerWorker; w++) this.recordTransfer({ ...cost, descriptors: cost.descriptors / handlesPerWorker }, w % this.cfg.tp);
      }
      await this.notify(p.remote_host, p.remote_port, p.remote_request_id);
      this.notified.add(req.requestId);
      return { ok: true };
    } catch (err) {
      // The producer is unreachable or not the one named: no notification can follow (as in vLLM).
      this.notified.add(req.requestId);
      const reason = err instanceof Error ? err.message : String(err);
      this.metrics.inc(this.metrics.nixlFailedTransfers, 1);
      this.interval.failed++;
      this.log.error(
        `NIXL transfer failure: handshake_failed | Context: {'request_id': '${req.requestId}', 'remote_engine_id': '${p.remote_engine_id}', 'remote_host': '${p.remote_host}', 'remote_port': ${p.remote_port}, 'num_remote_blocks': ${remoteBlocks}, 'error': '${reason}'} (kv_load_failure_policy=${this.cfg.failurePolicy})`,
      );
      return { ok: false, reason };
    } finally {
      this.stopHeartbeat(p);
    }
  }

  consumerFinished(req: EngineRequest): void {
    const parsed = RemotePrefillParams.safeParse(req.remotePrefill);
    if (parsed.success) this.stopHeartbeat(parsed.data);
    if (this.notified.has(req.requestId)) {
      this.notified.delete(req.requestId);
      return;
    }
    // Aborted or failed before the read: tell P so it frees its blocks now (vLLM's empty read).
    const p = RemotePrefillParams.safeParse(req.remotePrefill);
    if (!p.success) return;
    void this.notify(p.data.remote_host, p.data.remote_port, p.data.remote_request_id).catch(() => undefined);
  }

  private recordTransfer(r: XferRecord, rank: number): void {
    this.onTransfer?.(rank, r);
    this.metrics.observe(this.metrics.nixlXferTime, r.xferS);
    this.metrics.observe(this.metrics.nixlPostTime, r.postS);
    this.metrics.observe(this.metrics.nixlBytes, r.bytes);
    this.metrics.observe(this.metrics.nixlDescriptors, r.descriptors);
    this.interval.xfers.push(r);
  }

  private handshake(engineId: string, host: string, port: number): Promise<HandshakeReply> {
    let p = this.handshakes.get(engineId);
    if (!p) {
      p = this.doHandshake(engineId, host, port);
      this.handshakes.set(engineId, p);
    }
    return p;
  }

  private async doHandshake(engineId: string, host: string, port: number): Promise<HandshakeReply> {
    const body = await this.request('GET', host, port, `/nixl/handshake?tp_rank=0`, undefined);
    const parsed = HandshakeReply.safeParse(safeJson(body));
    if (!parsed.success) throw new Error(`side channel at ${host}:${port} did not answer a NIXL handshake`);
    const meta = parsed.data;
    if (meta.agent_metadata.engine_id !== engineId) {
      throw new Error(`Remote NIXL agent engine ID mismatch. Expected ${engineId}, received ${meta.agent_metadata.engine_id}.`);
    }
    if (this.cfg.enforceHandshakeCompat && meta.compatibility_hash !== this.compatibilityHash) {
      throw new Error(`NIXL compatibility hash mismatch. Local: ${this.compatibilityHash}, Remote: ${meta.compatibility_hash}.`);
    }
    if (meta.agent_metadata.block_size !== this.cfg.blockSize) {
      throw new Error(`Local block size ${this.cfg.blockSize} does not match remote block size ${meta.agent_metadata.block_size}.`);
    }
    return meta;
  }

  private async notify(host: string, port: number, remoteRequestId: string): Promise<void> {
    const lines = Array.from({ length: this.cfg.tp }, () => `${remoteRequestId}:${this.cfg.tp}`).join('\n');
    try {
      await this.request('POST', host, port, '/nixl/notify', lines);
    } catch (err) {
      this.metrics.inc(this.metrics.nixlFailedNotifications, 1);
      this.metrics.inc(this.metrics.nixlFailedTransfers, 1);
      this.interval.failed++;
      this.log.error(`NIXL notification to ${host}:${port} for request ${remoteRequestId} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private sendHeartbeats(): void {
    for (const [, hb] of this.heartbeatWaiting) {
      if (hb.ids.size === 0) continue;
      void this.request('POST', hb.host, hb.port, '/nixl/heartbeat', JSON.stringify({ request_ids: [...hb.ids] })).catch(() => undefined);
    }
  }

  private request(method: string, host: string, port: number, path: string, body: string | undefined): Promise<string> {
    return new Promise((resolve, reject) => {
      const r = http.request({ host, port, path, method, agent: this.agent, timeout: HANDSHAKE_TIMEOUT_MS, headers: body === undefined ? {} : { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 500) >= 400) reject(new Error(`side channel ${host}:${port}${path} answered HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
          else resolve(text);
        });
        res.on('error', reject);
      });
      r.on('timeout', () => r.destroy(new Error(`no answer from side channel ${host}:${port} within ${HANDSHAKE_TIMEOUT_MS / 1000} s`)));
      r.on('error', (err: NodeJS.ErrnoException) =>
        reject(new Error(err.code === 'ECONNREFUSED' ? `nothing listens on side channel ${host}:${port} (connection refused)` : err.message)),
      );
      r.end(body);
    });
  }

  /** The periodic "KV Transfer metrics" line (reference §3.3, NixlKVConnectorStats.reduce). */
  logInterval(): void {
    const iv = this.interval;
    this.interval = { xfers: [], failed: 0, expired: 0, afterExpiry: 0 };
    if (iv.xfers.length === 0 && iv.failed === 0 && iv.expired === 0 && iv.afterExpiry === 0) return;
    const failures = `Num failed transfers=${iv.failed}, Num KV expired reqs=${iv.expired}, Num notifs after expiry=${iv.afterExpiry}`;
    if (iv.xfers.length === 0) {
      this.log.info(`KV Transfer metrics: Num successful transfers=0, Avg xfer time (ms)=0, P90 xfer time (ms)=0, Avg post time (ms)=0, P90 post time (ms)=0, Avg MB per transfer=0, Throughput (MB/s)=0, Avg number of descriptors=0, ${failures}`);
      return;
    }
    const n = iv.xfers.length;
    const xfer = iv.xfers.map((x) => x.xferS);
    const post = iv.xfers.map((x) => x.postS);
    const totalMb = iv.xfers.reduce((a, x) => a + x.bytes, 0) / 2 ** 20;
    const totalS = xfer.reduce((a, b) => a + b, 0);
    const r3 = (v: number): number => Math.round(v * 1000) / 1000;
    const mean = (a: number[]): number => a.reduce((x, y) => x + y, 0) / a.length;
    this.log.info(
      `KV Transfer metrics: Num successful transfers=${n}, Avg xfer time (ms)=${r3(mean(xfer) * 1e3)}, P90 xfer time (ms)=${r3(percentile(xfer, 90) * 1e3)}, ` +
        `Avg post time (ms)=${r3(mean(post) * 1e3)}, P90 post time (ms)=${r3(percentile(post, 90) * 1e3)}, Avg MB per transfer=${r3(totalMb / n)}, ` +
        `Throughput (MB/s)=${r3(totalS > 0 ? totalMb / totalS : 0)}, Avg number of descriptors=${Math.round(mean(iv.xfers.map((x) => x.descriptors)) * 10) / 10}, ${failures}`,
    );
  }
}

export function flattenBlockIds(ids: number[] | number[][]): number[] {
  return (ids as (number | number[])[]).flatMap((x) => (Array.isArray(x) ? x : [x]));
}

/** numpy's default (linear) percentile. */
function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  const pos = ((s.length - 1) * p) / 100;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((r) => setTimeout(r, ms));
}
