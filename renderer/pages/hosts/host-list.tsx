import { useState } from 'react';
import type { ErrorPayload } from '../../../common/errors';
import { LOCAL_HOST_NAME, type HostInfo, type HostStatus } from '../../../common/host';
import { ErrorCallout } from '../../components/error-callout';
import { formatAgo } from '../../format';
import { useApp } from '../../store/app-store';
import { hostAddress, hostDisplayName, isLocalHost, sortHosts } from './host-state';
import { HostStatusChip } from './host-status-chip';

/** "4 × NVIDIA H100 80GB HBM3", mixed models listed each, or why there is nothing to list. */
export function gpuSummary(info: HostInfo | null): string {
  if (!info) return '—';
  if (info.gpus.length === 0) return info.nvidiaSmi.found ? 'no GPU visible' : 'no NVIDIA GPU';
  const counts = new Map<string, number>();
  for (const g of info.gpus) counts.set(g.name, (counts.get(g.name) ?? 0) + 1);
  return Array.from(counts, ([name, n]) => `${n} × ${name}`).join(', ');
}

function HostRow({ host }: { host: HostStatus }) {
  const navigate = useApp((s) => s.navigate);
  const name = host.config.name;
  const open = (): void => navigate({ page: 'hosts', view: 'host', host: name });
  return (
    <tr className="row-link" data-testid={`host-row-${name}`} onClick={open}>
      <td>
        <a
          href={`#/hosts/host/${encodeURIComponent(name)}`}
          onClick={(e) => {
            e.preventDefault();
            open();
          }}
          data-testid={`host-open-${name}`}
        >
          {hostDisplayName(host.config)}
        </a>
        {isLocalHost(host.config) && name !== LOCAL_HOST_NAME ? <span className="muted small"> local</span> : null}
      </td>
      <td className="mono muted">{hostAddress(host.config)}</td>
      <td>
        <HostStatusChip state={host.state} testId={`host-status-${name}`} />
      </td>
      <td data-testid={`host-gpus-${name}`}>{gpuSummary(host.info)}</td>
      <td className="muted">{formatAgo(host.checkedAt)}</td>
    </tr>
  );
}

/** Shown when the controller's list has no local host: "This computer" is always one click away. */
function LocalHostPlaceholder() {
  const addHost = useApp((s) => s.addHost);
  const navigate = useApp((s) => s.navigate);
  const [error, setError] = useState<ErrorPayload | null>(null);
  const [busy, setBusy] = useState(false);
  const add = (): void => {
    setBusy(true);
    setError(null);
    void addHost({ kind: 'local', name: LOCAL_HOST_NAME }).then((r) => {
      setBusy(false);
      if (r.ok) navigate({ page: 'hosts', view: 'host', host: LOCAL_HOST_NAME });
      else setError(r.error);
    });
  };
  return (
    <tr data-testid={`host-row-${LOCAL_HOST_NAME}`}>
      <td>This computer</td>
      <td className="mono muted">local, no SSH</td>
      <td>
        <span className="chip chip-idle" data-testid={`host-status-${LOCAL_HOST_NAME}`} data-state="not-added">
          <span className="chip-dot" aria-hidden="true" />
          not added
        </span>
      </td>
      <td colSpan={2}>
        <button type="button" className="btn btn-small" onClick={add} disabled={busy} data-testid="add-local-host">
          Add this computer
        </button>
        {error ? <ErrorCallout error={error} title="Could not add this computer" testId="add-local-host-error" /> : null}
      </td>
    </tr>
  );
}

export function HostList() {
  const hosts = useApp((s) => s.hosts);
  const loaded = useApp((s) => s.hostsLoaded);
  const error = useApp((s) => s.hostsError);
  const loadHosts = useApp((s) => s.loadHosts);
  const sorted = sortHosts(hosts);
  const hasLocal = hosts.some((h) => isLocalHost(h.config));
  return (
    <div className="card card-flush">
      {error ? (
        <div className="card-pad">
          <ErrorCallout error={error} title="Could not load the hosts" testId="hosts-load-error" />
          <button type="button" className="btn btn-small" onClick={() => void loadHosts()} data-testid="hosts-retry">
            Try again
          </button>
        </div>
      ) : null}
      <table className="table table-hosts" data-testid="host-list" data-loaded={loaded}>
        <thead>
          <tr>
            <th>Host</th>
            <th>Address</th>
            <th>Status</th>
            <th>GPUs</th>
            <th>Checked</th>
          </tr>
        </thead>
        <tbody>
          {!loaded && !error ? (
            <tr>
              <td colSpan={5} className="muted">
                Loading hosts…
              </td>
            </tr>
          ) : null}
          {loaded && !hasLocal ? <LocalHostPlaceholder /> : null}
          {sorted.map((h) => (
            <HostRow key={h.config.name} host={h} />
          ))}
        </tbody>
      </table>
      {loaded && hosts.filter((h) => !isLocalHost(h.config)).length === 0 ? (
        <p className="card-pad muted" data-testid="hosts-empty-hint">
          No remote hosts yet. Add a GPU machine you can reach with SSH: Handoff installs its agent there and discovers GPUs and software.
        </p>
      ) : null}
    </div>
  );
}
