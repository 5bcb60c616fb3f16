import type { DeploymentSummary, DeploymentView } from '../../../../common/deployment-view';
import type { HostStatus } from '../../../../common/host';
import { formatMiB } from '../../../format';
import { useApp } from '../../../store/app-store';
import { defaultName, gpusNeeded, newGroupKey, type GroupDraft, type GroupRole, type Mode, type WizardDraft } from '../../../store/deployment-draft';
import { hostDisplayName } from '../../hosts/host-state';
import { TopologyMatrix } from '../../hosts/topology-matrix';
import { ChoiceCard, TextField } from './fields';
import { describeLink, FOREIGN_MEMORY_MIB, gpuOffer, gpusHeldByDeployments, gpusTakenInDraft, kvPathLinks, pairLinks, type GpuOffer } from './gpu-usage';

const ROLE_TITLES: Record<GroupRole, string> = { both: 'Worker group', prefill: 'Prefill group', decode: 'Decode group' };

interface Context {
  draft: WizardDraft;
  hosts: readonly HostStatus[];
  deployments: readonly DeploymentSummary[];
  views: Readonly<Record<string, DeploymentView>>;
}

function GpuChip(props: { id: number; selected: boolean; offer: GpuOffer; takenBy: GroupDraft | undefined; heldBy: string | undefined; memoryUsedMiB: number | undefined; onToggle: () => void; testId: string }) {
  const { id, selected, offer, takenBy, heldBy, memoryUsedMiB, onToggle, testId } = props;
  const foreign = memoryUsedMiB !== undefined && memoryUsedMiB > FOREIGN_MEMORY_MIB;
  let note = '';
  let cls = 'gpu-chip';
  let disabled = false;
  if (takenBy) {
    note = takenBy.role === 'both' ? 'other group' : takenBy.role;
    cls += ' gpu-chip-taken';
    disabled = true;
  } else if (heldBy && offer.kind === 'real') {
    note = `busy: ${heldBy}`;
    cls += ' gpu-chip-busy';
    disabled = !selected;
  } else if (foreign && offer.kind === 'real') {
    note = `${formatMiB(memoryUsedMiB)} used`;
    cls += ' gpu-chip-foreign';
  } else if (offer.kind === 'simulated' || offer.kind === 'unchecked') {
    note = offer.kind === 'simulated' ? 'sim' : '?';
  }
  if (selected) cls += ' gpu-chip-selected';
  const title = takenBy
    ? `GPU ${id} is already in this deployment's ${takenBy.role === 'both' ? 'other worker group' : takenBy.role + ' group'}`
    : heldBy && offer.kind === 'real'
      ? `GPU ${id} is used by the running deployment "${heldBy}"`
      : foreign && offer.kind === 'real'
        ? `GPU ${id} has ${formatMiB(memoryUsedMiB)} in use by another program`
        : `GPU ${id}`;
  return (
    <button
      type="button"
      className={cls}
      aria-pressed={selected}
      onClick={onToggle}
      disabled={disabled}
      title={title}
      data-testid={testId}
      data-selected={selected}
      data-busy={heldBy && offer.kind === 'real' ? 'deployment' : foreign && offer.kind === 'real' ? 'memory' : undefined}
    >
      <span className="gpu-chip-id">GPU {id}</span>
      {note ? <span className="gpu-chip-note">{note}</span> : null}
    </button>
  );
}

function GroupCard({ ctx, group, index, removable }: { ctx: Context; group: GroupDraft; index: number; removable: boolean }) {
  const setDraft = useApp((s) => s.setDraft);
  const { draft, hosts } = ctx;
  const host = hosts.find((h) => h.config.name === group.host);
  const offer = gpuOffer(host, draft.engine);
  const groups = draft.groups[draft.mode];
  const taken = gpusTakenInDraft(groups, group.host, group.key);
  const held = gpusHeldByDeployments(ctx.deployments, ctx.views, group.host);
  const update = (patch: Partial<GroupDraft>) =>
    setDraft((d) => ({ ...d, groups: { ...d.groups, [d.mode]: d.groups[d.mode].map((g) => (g.key === group.key ? { ...g, ...patch } : g)) } }));
  const remove = () => setDraft((d) => ({ ...d, groups: { ...d.groups, [d.mode]: d.groups[d.mode].filter((g) => g.key !== group.key) } }));
  const toggle = (id: number) => update({ gpus: group.gpus.includes(id) ? group.gpus.filter((x) => x !== id) : [...group.gpus, id].sort((a, b) => a - b) });
  const need = gpusNeeded(group);
  const links = pairLinks(host?.info?.topology, group.gpus);
  const prefix = `wizard-group-${index}`;
  return (
    <div className="group-card" data-testid={prefix} data-role={group.role}>
      <div className="group-head">
        <span className={`role-tag role-${group.role}`}>{ROLE_TITLES[group.role]}</span>
        <span className="spacer" />
        {removable ? (
          <button type="button" className="btn btn-small" onClick={remove} data-testid={`${prefix}-remove`}>
            Remove
          </button>
        ) : null}
      </div>
      <div className="group-fields">
        <label className="field field-narrow">
          <span className="field-label">Host</span>
          <select value={group.host} onChange={(e) => update({ host: e.target.value, gpus: [] })} data-testid={`${prefix}-host`}>
            {hosts.map((h) => (
              <option key={h.config.name} value={h.config.name}>
                {hostDisplayName(h.config)}
                {h.info ? ` — ${h.info.gpus.length} GPU${h.info.gpus.length === 1 ? '' : 's'}` : ' — not checked'}
              </option>
            ))}
          </select>
        </label>
        <label className="field field-tiny">
          <span className="field-label">TP</span>
          <input type="number" min={1} max={64} value={group.tp} onChange={(e) => update({ tp: Math.max(1, Math.floor(Number(e.target.value) || 1)) })} data-testid={`${prefix}-tp`} />
        </label>
        <label className="field field-tiny">
          <span className="field-label">Replicas</span>
          <input
            type="number"
            min={1}
            max={64}
            value={group.replicas}
            onChange={(e) => update({ replicas: Math.max(1, Math.floor(Number(e.target.value) || 1)) })}
            data-testid={`${prefix}-replicas`}
          />
        </label>
        <TextField label="Port" value={group.port} onChange={(port) => update({ port })} testId={`${prefix}-port`} placeholder="auto" inputMode="numeric" narrow />
      </div>
      <div className="gpu-picker">
        <span className="field-label">GPUs</span>
        {offer.kind === 'cpu-only' ? (
          <p className="muted small" data-testid={`${prefix}-cpu-only`}>
            This host has no GPU: vLLM's CPU build runs here, so no GPU is chosen.
          </p>
        ) : (
          <div className="gpu-chips">
            {offer.ids.map((id) => (
              <GpuChip
                key={id}
                id={id}
                selected={group.gpus.includes(id)}
                offer={offer}
                takenBy={taken.get(id)}
                heldBy={held.get(id)}
                memoryUsedMiB={host?.info?.gpus.find((g) => g.index === id)?.memoryUsedMiB}
                onToggle={() => toggle(id)}
                testId={`${prefix}-gpu-${id}`}
              />
            ))}
          </div>
        )}
        {offer.kind !== 'cpu-only' ? (
          <p className={`small ${group.gpus.length === 0 || group.gpus.length === need ? 'muted' : 'text-warn'}`} data-testid={`${prefix}-gpu-hint`}>
            {group.gpus.length === 0
              ? `None chosen: the planner takes the first ${need} free GPU${need === 1 ? '' : 's'}${offer.kind === 'simulated' ? ' (or none, simulated)' : ''}.`
              : group.gpus.length === need
                ? `${need} GPU${need === 1 ? '' : 's'}: ${group.replicas} instance${group.replicas === 1 ? '' : 's'} × TP ${group.tp}.`
                : `${group.gpus.length} chosen, but ${group.replicas} instance${group.replicas === 1 ? '' : 's'} × TP ${group.tp} needs ${need}.`}
            {offer.kind === 'simulated' ? ' Simulated: ids only label the workers.' : ''}
            {offer.kind === 'unchecked' ? ' This host has not been checked: its GPUs are checked in the review.' : ''}
          </p>
        ) : null}
        {links.length ? (
          <p className="small muted" data-testid={`${prefix}-links`}>
            {links.map((l) => (
              <span key={`${l.a}-${l.b}`} className="link-pair">
                GPU{l.a} ↔ GPU{l.b}: <span className={`legend-swatch link-${describeLink(l.link) === 'NVLink' ? 'nv' : 'other'}`}>{l.link}</span> {describeLink(l.link)}
              </span>
            ))}
          </p>
        ) : null}
      </div>
    </div>
  );
}

/** One host's GPUs as the picker sees them, with the NVLink matrix from its last check. */
function HostGpus({ ctx, host }: { ctx: Context; host: HostStatus }) {
  const { draft } = ctx;
  const checkHost = useApp((s) => s.checkHost);
  const checking = host.state === 'checking';
  const name = host.config.name;
  const info = host.info;
  const groups = draft.groups[draft.mode];
  const taken = gpusTakenInDraft(groups, name);
  const held = gpusHeldByDeployments(ctx.deployments, ctx.views, name);
  const kv = draft.mode === 'disaggregated' ? kvPathLinks(info?.topology, draft.groups, name) : [];
  return (
    <section className="card host-gpus" data-testid={`wizard-host-${name}`}>
      <h3 className="card-title">
        {hostDisplayName(host.config)}
        <span className="muted small">{info ? `${info.gpus.length} GPU${info.gpus.length === 1 ? '' : 's'}` : 'not checked yet'}</span>
      </h3>
      {!info ? (
        <p className="muted small">
          Its GPUs and software are unknown until it is checked (the review checks it anyway).{' '}
          <button type="button" className="btn btn-small" onClick={() => void checkHost(name)} disabled={checking} data-testid={`wizard-host-${name}-check`}>
            {checking ? 'Checking…' : 'Check now'}
          </button>
        </p>
      ) : info.gpus.length === 0 ? (
        <p className="muted small" data-testid={`wizard-host-${name}-no-gpu`}>
          No GPU here.{' '}
          {draft.engine === 'mocker' ? 'The simulator needs none: GPU ids only label its workers.' : "vLLM's CPU build runs here (slow, for trying things)."}
        </p>
      ) : (
        <>
          <table className="table table-compact" data-testid={`wizard-host-${name}-gpus`}>
            <thead>
              <tr>
                <th className="num">GPU</th>
                <th>Model</th>
                <th className="num">Memory used</th>
                <th>In use by</th>
              </tr>
            </thead>
            <tbody>
              {info.gpus.map((g) => {
                const mine = taken.get(g.index);
                const other = held.get(g.index);
                const uses = [
                  mine ? `this deployment (${mine.role === 'both' ? 'worker' : mine.role})` : null,
                  other ? `deployment "${other}"` : null,
                  g.memoryUsedMiB > FOREIGN_MEMORY_MIB ? 'another program (memory in use)' : null,
                ].filter((x): x is string => x !== null);
                return (
                  <tr key={g.index} data-testid={`wizard-host-${name}-gpu-${g.index}`}>
                    <td className="num mono">{g.index}</td>
                    <td>{g.name}</td>
                    <td className="num mono">
                      {formatMiB(g.memoryUsedMiB)} / {formatMiB(g.memoryTotalMiB)}
                    </td>
                    <td className={other || g.memoryUsedMiB > FOREIGN_MEMORY_MIB ? 'text-warn' : 'muted'}>{uses.join(', ') || 'free'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {kv.length ? (
            <p className="small" data-testid={`wizard-host-${name}-kv-path`}>
              KV path prefill → decode:{' '}
              {kv.map((l) => (
                <span key={`${l.a}-${l.b}`} className="link-pair">
                  GPU{l.a} → GPU{l.b} {l.link} ({describeLink(l.link)})
                </span>
              ))}
            </p>
          ) : null}
          {info.topology ? (
            <details className="topology-details" open={info.gpus.length > 1} data-testid={`wizard-host-${name}-topology`}>
              <summary>NVLink / PCIe topology</summary>
              <TopologyMatrix topology={info.topology} />
            </details>
          ) : null}
        </>
      )}
    </section>
  );
}

export function StepTopology({ draft, hosts }: { draft: WizardDraft; hosts: readonly HostStatus[] }) {
  const setDraft = useApp((s) => s.setDraft);
  const deployments = useApp((s) => s.deployments);
  const views = useApp((s) => s.deploymentViews);
  const ctx: Context = { draft, hosts, deployments, views };
  const groups = draft.groups[draft.mode];
  const setMode = (mode: Mode) => setDraft((d) => ({ ...d, mode, name: d.nameTouched ? d.name : defaultName(d.engine, mode) }));
  const addGroup = (role: GroupRole) =>
    setDraft((d) => {
      const list = d.groups[d.mode];
      const like = [...list].reverse().find((g) => g.role === role) ?? list[0];
      const g: GroupDraft = { key: newGroupKey(), role, host: like?.host ?? hosts[0]?.config.name ?? 'this-computer', tp: like?.tp ?? 1, replicas: 1, gpus: [], port: '' };
      return { ...d, groups: { ...d.groups, [d.mode]: [...list, g] } };
    });
  const usedHosts = Array.from(new Set(groups.map((g) => g.host)));
  const sections: Array<{ role: GroupRole; title: string }> =
    draft.mode === 'aggregated' ? [{ role: 'both', title: 'Workers' }] : [{ role: 'prefill', title: 'Prefill' }, { role: 'decode', title: 'Decode' }];
  const decodeHost = (groups.find((g) => g.role === 'decode') ?? groups[0])?.host;
  return (
    <div className="wizard-body" data-testid="wizard-step-topology">
      <section className="card form">
        <h2 className="card-title">Mode</h2>
        <div className="choices">
          <ChoiceCard name="mode" value="aggregated" checked={draft.mode === 'aggregated'} onSelect={() => setMode('aggregated')} title="Aggregated" testId="wizard-mode-aggregated">
            Each worker prefills and decodes its own requests; the router balances between workers. The baseline.
          </ChoiceCard>
          <ChoiceCard
            name="mode"
            value="disaggregated"
            checked={draft.mode === 'disaggregated'}
            onSelect={() => setMode('disaggregated')}
            title="Disaggregated (prefill / decode)"
            testId="wizard-mode-disaggregated"
          >
            Prefill workers compute the prompt's KV cache and hand it to decode workers over NIXL; the router runs both legs. Prefill TP must not exceed decode TP.
          </ChoiceCard>
        </div>
      </section>
      <div className="topology-layout">
        <div className="topology-groups">
          {sections.map((sec) => (
            <section className="card" key={sec.role} data-testid={`wizard-section-${sec.role}`}>
              <h2 className="card-title">
                {sec.title}
                <span className="spacer" />
                <button type="button" className="btn btn-small" onClick={() => addGroup(sec.role)} data-testid={`wizard-add-${sec.role}`}>
                  Add {sec.role === 'both' ? 'worker' : sec.role} group
                </button>
              </h2>
              {groups.map((g, i) =>
                g.role === sec.role ? <GroupCard key={g.key} ctx={ctx} group={g} index={i} removable={groups.filter((x) => x.role === g.role).length > 1} /> : null,
              )}
            </section>
          ))}
          <section className="card">
            <h2 className="card-title">Router</h2>
            <label className="field field-narrow">
              <span className="field-label">Host</span>
              <select value={draft.routerHost} onChange={(e) => setDraft((d) => ({ ...d, routerHost: e.target.value }))} data-testid="wizard-router-host">
                <option value="">
                  default: {draft.mode === 'disaggregated' ? 'the first decode group' : 'the first group'}'s host ({decodeHost ?? 'this computer'})
                </option>
                {hosts.map((h) => (
                  <option key={h.config.name} value={h.config.name}>
                    {hostDisplayName(h.config)}
                  </option>
                ))}
              </select>
              <span className="field-help">The OpenAI-compatible endpoint; it listens on 127.0.0.1 of its host (the port is under Options).</span>
            </label>
          </section>
        </div>
        <div className="topology-hosts">
          {usedHosts.map((h) => {
            const host = hosts.find((x) => x.config.name === h);
            return host ? <HostGpus key={h} ctx={ctx} host={host} /> : null;
          })}
        </div>
      </div>
    </div>
  );
}
