import { useEffect, useState } from 'react';
import { ChatParams } from '../../../common/chat';
import type { DeploymentSummary } from '../../../common/deployment-view';
import { useApp } from '../../store/app-store';
import { isChattable } from '../../store/chat-slice';

/** One column's deployment: running ones first; a stopped one stays listed while it is selected. */
export function DeploymentPicker({ lane }: { lane: number }) {
  const deployments = useApp((s) => s.deployments);
  const value = useApp((s) => s.conversation.lanes[lane]?.deployment ?? null);
  const setLane = useApp((s) => s.setLaneDeployment);
  const running = deployments.filter(isChattable);
  const selected = deployments.find((d) => d.id === value) ?? null;
  const label = (d: DeploymentSummary) => `${d.name} — ${d.mode}${d.simulated ? ' (simulated)' : ''}${isChattable(d) ? '' : ` [${d.state}]`}`;
  return (
    <label className="lane-picker">
      <span className="field-label">{lane === 0 ? 'Deployment' : 'Compare with'}</span>
      <select data-testid={`lane-${lane}-deployment`} value={value ?? ''} onChange={(e) => setLane(lane, e.target.value || null)}>
        <option value="">{running.length ? 'Pick a deployment…' : 'No running deployment'}</option>
        {running.map((d) => (
          <option key={d.id} value={d.id}>
            {label(d)}
          </option>
        ))}
        {selected && !isChattable(selected) ? <option value={selected.id}>{label(selected)}</option> : null}
      </select>
      {selected?.simulated ? (
        <span className="badge badge-simulated" data-testid={`lane-${lane}-simulated`} title="The mocker: a simulated engine, no GPU; timings come from its latency model">
          simulated
        </span>
      ) : null}
    </label>
  );
}

interface FieldSpec {
  key: 'temperature' | 'topP' | 'maxTokens' | 'seed' | 'stop';
  label: string;
  placeholder: string;
  help: string;
}

const FIELDS: FieldSpec[] = [
  { key: 'temperature', label: 'temperature', placeholder: '0.7', help: '0 – 2' },
  { key: 'topP', label: 'top_p', placeholder: '1', help: '(0, 1]' },
  { key: 'maxTokens', label: 'max_tokens', placeholder: '512', help: 'whole number ≥ 1' },
  { key: 'seed', label: 'seed', placeholder: 'random', help: 'whole number, empty = random' },
  { key: 'stop', label: 'stop', placeholder: 'none', help: 'up to 4, separated by |' },
];

function toText(p: ChatParams, key: FieldSpec['key']): string {
  const v = p[key];
  if (v === undefined) return '';
  return Array.isArray(v) ? v.join('|') : String(v);
}

/** Parses one field; `undefined` clears it. Returns an error message instead when it is not valid. */
function parseField(key: FieldSpec['key'], text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  const t = text.trim();
  if (t === '') return { ok: true, value: undefined };
  if (key === 'stop') return { ok: true, value: t.split('|').filter((x) => x.length > 0) };
  const n = Number(t);
  if (!Number.isFinite(n)) return { ok: false, message: 'not a number' };
  return { ok: true, value: n };
}

/** System prompt and sampling parameters of the open conversation. */
export function ChatSettings() {
  const conversationId = useApp((s) => s.conversation.id);
  const params = useApp((s) => s.conversation.params);
  const systemPrompt = useApp((s) => s.conversation.systemPrompt);
  const setParams = useApp((s) => s.setChatParams);
  const setSystem = useApp((s) => s.setSystemPrompt);
  const [texts, setTexts] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  useEffect(() => {
    setTexts(Object.fromEntries(FIELDS.map((f) => [f.key, toText(params, f.key)])));
    setErrors({});
    // Only when another conversation opens: while typing, the text boxes lead.
  }, [conversationId]);

  const change = (key: FieldSpec['key'], text: string) => {
    setTexts((t) => ({ ...t, [key]: text }));
    const f = parseField(key, text);
    if (!f.ok) {
      setErrors((e) => ({ ...e, [key]: f.message }));
      return;
    }
    const next = { ...params, [key]: f.value };
    if (f.value === undefined) delete next[key];
    const r = ChatParams.safeParse(next);
    if (!r.success) {
      setErrors((e) => ({ ...e, [key]: r.error.issues[0]?.message ?? 'invalid' }));
      return;
    }
    setErrors((e) => {
      const rest = { ...e };
      delete rest[key];
      return rest;
    });
    setParams(r.data);
  };

  return (
    <div className="chat-settings card">
      <label className="field system-prompt">
        <span className="field-label">System prompt</span>
        <textarea data-testid="chat-system-prompt" rows={2} value={systemPrompt} placeholder="You are a helpful assistant." onChange={(e) => setSystem(e.target.value)} />
      </label>
      <div className="param-row">
        {FIELDS.map((f) => (
          <label key={f.key} className={`field param ${errors[f.key] ? 'field-invalid' : ''}`}>
            <span className="field-label">{f.label}</span>
            <input data-testid={`param-${f.key}`} value={texts[f.key] ?? ''} placeholder={f.placeholder} onChange={(e) => change(f.key, e.target.value)} />
            <span className={errors[f.key] ? 'field-error' : 'field-help'} data-testid={errors[f.key] ? `param-${f.key}-error` : undefined}>
              {errors[f.key] ?? f.help}
            </span>
          </label>
        ))}
      </div>
    </div>
  );
}
