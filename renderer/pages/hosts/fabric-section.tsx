import { useEffect, useState } from 'react';
import type { HostStatus } from '../../../common/host';
import { classifyLink } from '../../../common/kv/fabric-link';
import type { FabricProbeRecord } from '../../../common/kv/fabric-probe';
import { BUILTIN_MODELS } from '../../../common/model-config';
import { ErrorCallout } from '../../components/error-callout';
import { useApp } from '../../store/app-store';
import { DEFAULT_MODEL } from '../../store/deployment-draft';
import { FabricCheck } from './fabric-check';
import { FabricResultView, LinkExpectationsTable, LinkLine } from './fabric-result';

const NO_RECORDS: FabricProbeRecord[] = [];
const clampInt = (text: string, min: number, max: number, fallback: number): number => {
  const n = Math.floor(Number(text));
  return Number.isFinite(n) && n >= min && n <= max ? n : fallback;
};

/**
 * The host view's fabric check: pick a GPU pair and a model shape, measure KV-block copies between
 * them with kvprobe, and list what was measured on this host before (the run view's reference line).
 */
export function FabricSection({ host }: { host: HostStatus }) {
  const name = host.config.name;
  const info = host.info;
  const records = useApp((s) => s.fabricRecords[name] ?? NO_RECORDS);
  const loadError = useApp((s) => s.fabricErrors[name]);
  const loadFabric = useApp((s) => s.loadFabric);
  const gpuIds = info?.gpus.map((g) => g.index) ?? [];
  const [src, setSrc] = useState(gpuIds[0] ?? 0);
  const [dst, setDst] = useState(gpuIds[1] ?? gpuIds[0] ?? 0);
  const [model, setModel] = useState(DEFAULT_MODEL);
  const [tp, setTp] = useState('1');
  const [blockSize, setBlockSize] = useState('16');

  useEffect(() => {
    void loadFabric(name);
  }, [name, loadFabric]);

  const link = classifyLink(info?.topology ?? null, src, dst);
  const request = { host: name, srcGpu: src, dstGpu: dst, model, tp: clampInt(tp, 1, 256, 1), blockSize: clampInt(blockSize, 1, 4096, 16) };
  const gpuSelect = (value: number, set: (n: number) => void, testId: string) => (
    <select value={value} onChange={(e) => set(Number(e.target.value))} data-testid={testId}>
      {gpuIds.map((id) => (
        <option key={id} value={id}>
          GPU {id}
        </option>
      ))}
    </select>
  );
  return (
    <section className="card" data-testid="fabric-section">
      <h2 className="card-title">
        Fabric <span className="count" data-testid="fabric-record-count">{records.length}</span>
        <span className="muted small">KV-block copies between two GPUs of this host, measured with kvprobe</span>
      </h2>
      {gpuIds.length < 2 ? (
        <p className="muted small" data-testid="fabric-needs-gpus">
          {gpuIds.length === 0
            ? 'This host has no NVIDIA GPU, so there is no GPU fabric to measure (the simulated engine needs none).'
            : 'This host has one GPU: the fabric check measures copies between two GPUs of one host.'}{' '}
          Between hosts, KV goes over the network through NIXL/UCX, which shows in a benchmark's KV-transfer chart.
        </p>
      ) : (
        <>
          <div className="fabric-form">
            <label className="field">
              <span className="field-label">From (prefill)</span>
              {gpuSelect(src, setSrc, 'fabric-src')}
            </label>
            <label className="field">
              <span className="field-label">To (decode)</span>
              {gpuSelect(dst, setDst, 'fabric-dst')}
            </label>
            <label className="field">
              <span className="field-label">Model shape</span>
              <select value={model} onChange={(e) => setModel(e.target.value)} data-testid="fabric-model">
                {BUILTIN_MODELS.map((m) => (
                  <option key={m.name} value={m.name}>
                    {m.name}
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              <span className="field-label">Decode TP</span>
              <input type="number" min={1} max={256} value={tp} onChange={(e) => setTp(e.target.value)} data-testid="fabric-tp" />
            </label>
            <label className="field">
              <span className="field-label">Block size</span>
              <input type="number" min={1} max={4096} value={blockSize} onChange={(e) => setBlockSize(e.target.value)} data-testid="fabric-block-size" />
            </label>
          </div>
          <p className="small" data-testid="fabric-pair-link">
            GPU {src} → GPU {dst}: <LinkLine link={link} testId="fabric-pair-link-line" />
          </p>
          <FabricCheck request={request} host={host} simulated={false} testId="fabric-check" showStored={false} />
        </>
      )}
      {loadError ? <ErrorCallout error={loadError} title="Could not read the stored fabric results" testId="fabric-load-error" /> : null}
      {records.length ? (
        <div className="fabric-stored" data-testid="fabric-stored">
          <h3 className="small">Stored results</h3>
          {records.map((r) => (
            <FabricResultView key={r.key} record={r} testId={`fabric-stored-${r.srcGpu}-${r.dstGpu}-${r.result.shape.bytesPerBlock}`} />
          ))}
        </div>
      ) : (
        <p className="muted small" data-testid="fabric-none">
          No fabric results stored for this host yet.
        </p>
      )}
      <LinkExpectationsTable highlight={link.topo} />
    </section>
  );
}
