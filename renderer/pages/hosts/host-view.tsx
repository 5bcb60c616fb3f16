import { useState } from 'react';
import type { ErrorPayload } from '../../../common/errors';
import { LOCAL_HOST_NAME, type HostInfo, type HostStatus } from '../../../common/host';
import { ErrorCallout } from '../../components/error-callout';
import { Modal } from '../../components/modal';
import { TaskProgress } from '../../components/task-progress';
import { formatAgo, formatBytes } from '../../format';
import { useApp } from '../../store/app-store';
import { FabricSection } from './fabric-section';
import { GpuTable } from './gpu-table';
import { hostAddress, hostDisplayName, hostStateLook } from './host-state';
import { HostStatusChip } from './host-status-chip';
import { SoftwareVersions } from './software-versions';
import { TopologyMatrix } from './topology-matrix';

function Facts({ info }: { info: HostInfo }) {
  const rows: Array<[string, string, string]> = [
    ['Hostname', info.hostname, 'fact-hostname'],
    ['OS', info.os.prettyName ?? `${info.os.platform} ${info.os.release}`, 'fact-os'],
    ['Kernel', info.kernel, 'fact-kernel'],
    ['Architecture', info.arch, 'fact-arch'],
    ['glibc', info.glibc ?? '—', 'fact-glibc'],
    ['CPUs', `${info.cpus.count} × ${info.cpus.model}`, 'fact-cpus'],
    ['Memory', formatBytes(info.memoryBytes), 'fact-memory'],
    ['Free disk in $HOME', formatBytes(info.diskFreeBytesHome), 'fact-disk'],
    ['Agent', info.agentVersion, 'fact-agent'],
  ];
  return (
    <dl className="facts">
      {rows.map(([k, v, id]) => (
        <div key={id} className="fact">
          <dt>{k}</dt>
          <dd data-testid={id}>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

function GpuSection({ info }: { info: HostInfo }) {
  if (info.gpus.length > 0) return <GpuTable gpus={info.gpus} />;
  return (
    <p className="muted" data-testid="gpu-none">
      {info.nvidiaSmi.found
        ? 'nvidia-smi runs but lists no GPU. Check the driver with "nvidia-smi" on the host.'
        : 'No NVIDIA GPU found (nvidia-smi is not installed). This host can still run the simulated engine, and routers or load generators.'}
    </p>
  );
}

function RemoveDialog({ name, onClose }: { name: string; onClose: () => void }) {
  const removeHost = useApp((s) => s.removeHost);
  const navigate = useApp((s) => s.navigate);
  const [error, setError] = useState<ErrorPayload | null>(null);
  const [busy, setBusy] = useState(false);
  const remove = (): void => {
    setBusy(true);
    void removeHost(name).then((r) => {
      setBusy(false);
      if (r.ok) navigate({ page: 'hosts', view: 'list' });
      else setError(r.error);
    });
  };
  return (
    <Modal title={`Remove ${name}?`} onEscape={onClose} testId="remove-host-dialog">
      <p>Handoff forgets this host. Nothing on the host itself is deleted; add it again at any time.</p>
      {error ? <ErrorCallout error={error} title="Could not remove the host" testId="remove-host-error" /> : null}
      <div className="modal-actions">
        <button type="button" className="btn" onClick={onClose} disabled={busy} data-testid="remove-host-cancel" data-autofocus>
          Keep it
        </button>
        <button type="button" className="btn btn-danger" onClick={remove} disabled={busy} data-testid="remove-host-confirm">
          Remove
        </button>
      </div>
    </Modal>
  );
}

function HostDetails({ host }: { host: HostStatus }) {
  const name = host.config.name;
  const taskId = useApp((s) => s.hostTaskIds[name]);
  const checkHost = useApp((s) => s.checkHost);
  const [checkError, setCheckError] = useState<ErrorPayload | null>(null);
  const [removing, setRemoving] = useState(false);
  const look = hostStateLook(host.state);
  const info = host.info;
  const recheck = (): void => {
    setCheckError(null);
    void checkHost(name).then((r) => {
      if (!r.ok) setCheckError(r.error);
    });
  };
  const task = useApp((s) => (taskId ? s.tasks[taskId] : undefined));
  // A failed task from this window already shows the error in full, with the next step under it.
  const taskShowsFailure = task?.state === 'failed';
  const showProblem = !taskShowsFailure && host.state !== 'connected' && host.state !== 'checking' && (host.message || look.nextStep);
  return (
    <div className="page" data-testid="host-view" data-host={name}>
      <nav className="crumbs">
        <a href="#/hosts" data-testid="crumb-hosts">
          Hosts
        </a>
        <span aria-hidden="true"> / </span>
        <span>{hostDisplayName(host.config)}</span>
      </nav>
      <header className="page-head">
        <h1 data-testid="host-title">{hostDisplayName(host.config)}</h1>
        <HostStatusChip state={host.state} testId="host-status" />
        <span className="mono muted" data-testid="host-address">
          {hostAddress(host.config)}
        </span>
        <span className="spacer" />
        <span className="muted small" data-testid="host-checked-at">
          checked {formatAgo(host.checkedAt)}
        </span>
        <button type="button" className="btn" onClick={recheck} disabled={host.state === 'checking'} data-testid="host-recheck">
          Re-check
        </button>
        {name !== LOCAL_HOST_NAME ? (
          <button type="button" className="btn btn-danger-outline" onClick={() => setRemoving(true)} data-testid="host-remove">
            Remove
          </button>
        ) : null}
      </header>
      {showProblem ? (
        <div className={`callout ${look.tone === 'warn' ? 'callout-warn' : look.tone === 'idle' ? '' : 'callout-bad'}`} data-testid="host-problem">
          {host.message ? <div className="callout-body">{host.message}</div> : null}
          {look.nextStep ? <div className="callout-hint">{look.nextStep}</div> : null}
        </div>
      ) : null}
      {checkError ? <ErrorCallout error={checkError} title="Could not start the check" testId="host-check-error" /> : null}
      {taskId ? <TaskProgress taskId={taskId} failureHint={look.nextStep || undefined} /> : null}
      {info ? (
        <>
          <section className="card">
            <h2 className="card-title">Machine</h2>
            <Facts info={info} />
          </section>
          <section className="card">
            <h2 className="card-title">
              GPUs <span className="count" data-testid="gpu-count">{info.gpus.length}</span>
              {info.driverVersion ? <span className="muted small"> driver {info.driverVersion}</span> : null}
              {info.cudaVersion ? <span className="muted small"> · CUDA {info.cudaVersion}</span> : null}
            </h2>
            <GpuSection info={info} />
          </section>
          {info.topology ? (
            <section className="card">
              <h2 className="card-title">Topology</h2>
              <TopologyMatrix topology={info.topology} />
            </section>
          ) : null}
          <FabricSection host={host} />
          <section className="card">
            <h2 className="card-title">Software</h2>
            <SoftwareVersions info={info} />
          </section>
          <p className="muted small">Discovered {formatAgo(info.collectedAt)}.</p>
        </>
      ) : (
        <div className="card muted" data-testid="host-no-info">
          No details yet. Re-check to connect, install the agent and discover GPUs and software.
        </div>
      )}
      {removing ? <RemoveDialog name={name} onClose={() => setRemoving(false)} /> : null}
    </div>
  );
}

export function HostView({ name }: { name: string }) {
  const host = useApp((s) => s.hosts.find((h) => h.config.name === name));
  const loaded = useApp((s) => s.hostsLoaded);
  if (!host) {
    return (
      <div className="page" data-testid="host-missing">
        <nav className="crumbs">
          <a href="#/hosts">Hosts</a>
        </nav>
        <div className="card muted">{loaded ? `There is no host named "${name}". It may have been removed; pick one from the Hosts list.` : 'Loading…'}</div>
      </div>
    );
  }
  return <HostDetails host={host} />;
}
