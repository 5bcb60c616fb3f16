import { useEffect, useMemo, useRef, useState } from 'react';
import { SEED_PRESET, type BenchTool } from '../../../common/bench-rpc';
import type { ErrorPayload } from '../../../common/errors';
import type { RunLive } from '../../../common/run-view';
import { isTaskFinished } from '../../../common/task';
import { ErrorCallout } from '../../components/error-callout';
import { TaskProgress } from '../../components/task-progress';
import { useApp } from '../../store/app-store';
import { SimulatedBadge, useSimulatedNotice } from '../deployments/simulated';
import { formatMs, formatNumber } from './bench-format';
import { buildBenchParams, DEFAULT_FORM, toolAvailability, type BenchForm, type FormErrors } from './bench-form';

const TOOLS: Array<{ id: BenchTool; label: string }> = [
  { id: 'builtin', label: 'Built-in load generator' },
  { id: 'genai-perf', label: 'GenAI-Perf' },
  { id: 'aiperf', label: 'AIPerf' },
];

/** How often the live figures of a running benchmark are asked for, at most and at least. */
const LIVE_MIN_MS = 400;
const LIVE_POLL_MS = 1000;

function Field(props: { id: keyof BenchForm; label: string; value: string; onChange: (v: string) => void; error?: string | undefined; help?: string; disabled?: boolean; width?: number }) {
  return (
    <label className={`field${props.error ? ' field-invalid' : ''}`} style={props.width ? { maxWidth: props.width } : undefined}>
      <span className="field-label">{props.label}</span>
      <input value={props.value} onChange={(e) => props.onChange(e.target.value)} disabled={props.disabled} data-testid={`bench-${props.id}`} aria-invalid={props.error ? true : undefined} />
      {props.error ? (
        <span className="field-error" data-testid={`bench-${props.id}-error`}>
          {props.error}
        </span>
      ) : props.help ? (
        <span className="field-help">{props.help}</span>
      ) : null}
    </label>
  );
}

/** The live figures of the run in progress, from its host (runs.get while it runs). */
function LiveSnapshot({ runIds, taskId, taskRunning }: { runIds: string[]; taskId: string; taskRunning: boolean }) {
  const runs = useApp((s) => s.runs);
  const connected = useApp((s) => s.connection.state === 'open');
  const loadRun = useApp((s) => s.loadRun);
  // The task moves with every progress report from the host: a cue to ask for the figures.
  const cue = useApp((s) => s.tasks[taskId]?.steps.map((st) => st.detail ?? '').join('|') ?? '');
  const [live, setLive] = useState<{ id: string; progress: RunLive } | null>(null);
  const current = runIds.find((id) => runs.find((r) => r.id === id)?.status === 'running') ?? null;
  const last = useRef(0);
  const ask = useRef<() => void>(() => undefined);
  useEffect(() => {
    if (!taskRunning || !connected || !current) {
      ask.current = () => undefined;
      return;
    }
    let gone = false;
    ask.current = (): void => {
      if (Date.now() - last.current < LIVE_MIN_MS) return;
      last.current = Date.now();
      void loadRun(current).then((r) => {
        if (!gone && r.ok && r.value.summary.progress) setLive({ id: current, progress: r.value.summary.progress });
      });
    };
    ask.current();
    const t = setInterval(() => ask.current(), LIVE_POLL_MS);
    return () => {
      gone = true;
      clearInterval(t);
    };
  }, [current, taskRunning, connected, loadRun]);
  useEffect(() => ask.current(), [cue]);
  if (!live) return null;
  const p = live.progress;
  const l = p.live;
  const cells: Array<[string, string, string]> = [
    ['phase', 'Phase', p.phase],
    ['done', 'Requests done', `${p.done}${p.total !== null ? ` / ${p.total}` : ''}${p.phase === 'warmup' ? ` (warmup ${p.warmupDone})` : ''}`],
    ['errors', 'Failed', String(p.errors)],
    ['in-flight', 'In flight', l ? String(l.inFlight) : '—'],
    ['tokens', 'Output tokens/s', formatNumber(l?.outputTokensPerS)],
    ['requests', 'Requests/s', formatNumber(l?.requestsPerS)],
    ['ttft', 'TTFT p50 / p99', l ? `${formatMs(l.ttftP50Ms)} / ${formatMs(l.ttftP99Ms)}` : '—'],
    ['itl', 'ITL p50', formatMs(l?.itlP50Ms)],
  ];
  return (
    <section className="card" data-testid="bench-live" data-run-id={live.id}>
      <h2 className="card-title">
        Live <span className="muted small mono">{live.id}</span>
        {l ? <span className="muted small">{l.elapsedS.toFixed(0)} s</span> : null}
      </h2>
      {p.disconnected ? <div className="callout callout-warn small">{p.disconnected}</div> : null}
      {p.toolMessage ? <div className="muted small mono">{p.toolMessage}</div> : null}
      <dl className="facts">
        {cells.map(([id, label, value]) => (
          <div className="fact" key={id}>
            <dt>{label}</dt>
            <dd className="mono" data-testid={`bench-live-${id}`}>
              {value}
            </dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function Launched() {
  const launch = useApp((s) => s.benchLaunch);
  const task = useApp((s) => (launch ? s.tasks[launch.taskId] : undefined));
  const navigate = useApp((s) => s.navigate);
  const clear = useApp((s) => s.clearBenchLaunch);
  if (!launch) return null;
  const finished = task ? isTaskFinished(task) : false;
  const ok = task?.state === 'succeeded';
  return (
    <div className="bench-launch" data-testid="bench-launch">
      <TaskProgress taskId={launch.taskId} failureHint="The record keeps what finished; open it from the run list." />
      <LiveSnapshot runIds={launch.runIds} taskId={launch.taskId} taskRunning={!finished} />
      {finished ? (
        <div className="form-actions">
          {launch.group ? (
            <button type="button" className="btn btn-primary" onClick={() => navigate({ page: 'benchmarks', view: 'sweep', group: launch.group! })} data-testid="bench-open-sweep">
              Open the sweep
            </button>
          ) : null}
          {launch.runIds.map((id) => (
            <button
              key={id}
              type="button"
              className={`btn${!launch.group && ok ? ' btn-primary' : ''}`}
              onClick={() => navigate({ page: 'benchmarks', view: 'run', id })}
              data-testid={`bench-open-run-${id}`}
            >
              Open {id}
            </button>
          ))}
          <button type="button" className="btn" onClick={clear} data-testid="bench-new-again">
            New benchmark
          </button>
        </div>
      ) : null}
    </div>
  );
}

export function NewBenchmark() {
  const deployments = useApp((s) => s.deployments);
  const hosts = useApp((s) => s.hosts);
  const loadDeployments = useApp((s) => s.loadDeployments);
  const connected = useApp((s) => s.connection.state === 'open');
  const startBench = useApp((s) => s.startBench);
  const launch = useApp((s) => s.benchLaunch);
  const navigate = useApp((s) => s.navigate);
  const [form, setForm] = useState<BenchForm>(DEFAULT_FORM);
  const [errors, setErrors] = useState<FormErrors>({});
  const [startError, setStartError] = useState<ErrorPayload | null>(null);
  const [starting, setStarting] = useState(false);

  useEffect(() => {
    if (connected) void loadDeployments(true);
  }, [connected, loadDeployments]);

  const running = useMemo(() => deployments.filter((d) => d.stoppedAt === null && (d.state === 'ready' || d.state === 'degraded')), [deployments]);
  useEffect(() => {
    if (!form.deployment && running.length === 1) setForm((f) => ({ ...f, deployment: running[0]!.id }));
  }, [running, form.deployment]);
  const chosen = running.find((d) => d.id === form.deployment);
  const routerHost = hosts.find((h) => h.config.name === chosen?.endpoint.host);
  const tools = toolAvailability(routerHost);
  useSimulatedNotice(!!chosen?.simulated);

  const set = <K extends keyof BenchForm>(k: K, v: BenchForm[K]): void => {
    setForm((f) => ({ ...f, [k]: v }));
    setErrors((e) => ({ ...e, [k]: undefined }));
  };
  const start = async (): Promise<void> => {
    setStartError(null);
    const built = buildBenchParams(form);
    if ('errors' in built) {
      setErrors(built.errors);
      return;
    }
    if (!tools[form.tool].installed) {
      setStartError({ code: 'tool-missing', message: `${form.tool} is ${tools[form.tool].detail}. Install it there and check the host again, or use the built-in load generator.` });
      return;
    }
    setStarting(true);
    const r = await startBench(built.params);
    setStarting(false);
    if (!r.ok) setStartError(r.error);
  };
  const custom = form.preset === 'custom';

  return (
    <div className="page" data-testid="page-benchmarks-new">
      <div className="crumbs">
        <a
          href="#/benchmarks"
          onClick={(e) => {
            e.preventDefault();
            navigate({ page: 'benchmarks', view: 'list' });
          }}
        >
          Benchmarks
        </a>{' '}
        /
      </div>
      <header className="page-head">
        <h1>New benchmark</h1>
      </header>
      {launch ? (
        <Launched />
      ) : (
        <section className="card form" data-testid="bench-form">
          <label className="field">
            <span className="field-label">Deployment</span>
            <select value={form.deployment} onChange={(e) => set('deployment', e.target.value)} data-testid="bench-deployment" className="select">
              <option value="">{running.length ? 'Pick a running deployment…' : 'No running deployment'}</option>
              {running.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.name} · {d.mode} · {d.engine}
                  {d.simulated ? ' (simulated)' : ''} · {d.endpoint.host}
                </option>
              ))}
            </select>
            {errors.deployment ? (
              <span className="field-error" data-testid="bench-deployment-error">
                {errors.deployment}
              </span>
            ) : (
              <span className="field-help">
                {chosen ? (
                  <>
                    The load runs on {chosen.endpoint.host}, next to the router ({chosen.endpoint.url}). {chosen.simulated ? <SimulatedBadge testId="bench-simulated-badge" /> : null}
                  </>
                ) : running.length ? (
                  'Runs are labelled simulated when the deployment uses the mocker engine.'
                ) : (
                  <>
                    Start one on the{' '}
                    <a
                      href="#/deployments"
                      onClick={(e) => {
                        e.preventDefault();
                        navigate({ page: 'deployments', view: 'list' });
                      }}
                    >
                      Deployments
                    </a>{' '}
                    page first.
                  </>
                )}
              </span>
            )}
          </label>

          <fieldset className="fieldset" data-testid="bench-tools">
            <legend className="field-label">Tool</legend>
            {TOOLS.map((t) => (
              <label key={t.id} className="radio-line" data-testid={`bench-tool-${t.id}`} data-installed={tools[t.id].installed ? 'true' : 'false'}>
                <input type="radio" name="bench-tool" checked={form.tool === t.id} onChange={() => set('tool', t.id)} disabled={!tools[t.id].installed} />
                <span>{t.label}</span>
                <span className={`small ${tools[t.id].installed ? 'muted' : 'tool-missing'}`}>{tools[t.id].detail}</span>
              </label>
            ))}
          </fieldset>

          <Field
            id="clientCpus"
            label="Client CPUs (optional)"
            value={form.clientCpus}
            onChange={(v) => set('clientCpus', v)}
            error={errors.clientCpus}
            help="Keep the benchmark client on these CPUs of the router host (e.g. 0 or 0-3), away from the cores a CPU engine computes on. Empty: anywhere."
            width={360}
          />
          <label className="radio-line" data-testid="bench-server-token-count" data-disabled={form.tool === 'genai-perf' ? 'true' : 'false'}>
            <input
              type="checkbox"
              checked={form.serverTokenCount && form.tool !== 'genai-perf'}
              onChange={(e) => set('serverTokenCount', e.target.checked)}
              disabled={form.tool === 'genai-perf'}
              data-testid="bench-serverTokenCount"
            />
            <span>Count output tokens with the server's usage</span>
            <span className="muted small">Built-in and AIPerf; genai-perf always re-tokenizes.</span>
          </label>

          <fieldset className="fieldset" data-testid="bench-presets">
            <legend className="field-label">Workload</legend>
            <label className="radio-line" data-testid="bench-preset-seed">
              <input type="radio" name="bench-preset" checked={form.preset === 'seed'} onChange={() => set('preset', 'seed')} />
              <span>Seed preset</span>
              <span className="muted small">
                the seed's genai-perf command: chat, streaming, ISL {SEED_PRESET.islMean}±0, OSL {SEED_PRESET.oslMean} (min and max tokens {SEED_PRESET.maxTokens}), concurrency{' '}
                {SEED_PRESET.concurrency}, {SEED_PRESET.requestCount} requests, {SEED_PRESET.warmupRequestCount} warmup, seed {SEED_PRESET.randomSeed}
              </span>
            </label>
            <label className="radio-line" data-testid="bench-preset-custom">
              <input type="radio" name="bench-preset" checked={custom} onChange={() => set('preset', 'custom')} />
              <span>Custom</span>
              <span className="muted small">exact input and output lengths, one or several load points (a sweep)</span>
            </label>
          </fieldset>

          {custom ? (
            <div className="bench-fields" data-testid="bench-custom">
              <Field id="islMean" label="Input tokens (ISL)" value={form.islMean} onChange={(v) => set('islMean', v)} error={errors.islMean} width={170} />
              <Field id="oslMean" label="Output tokens (OSL)" value={form.oslMean} onChange={(v) => set('oslMean', v)} error={errors.oslMean} width={170} help="exact: min = max tokens" />
              <label className="field" style={{ maxWidth: 200 }}>
                <span className="field-label">Load</span>
                <select value={form.loadKind} onChange={(e) => set('loadKind', e.target.value as BenchForm['loadKind'])} data-testid="bench-loadKind" className="select">
                  <option value="concurrency">Concurrency</option>
                  <option value="rate">Request rate (requests/s)</option>
                </select>
              </label>
              <Field id="load" label={form.loadKind === 'rate' ? 'Requests/s' : 'Concurrency'} value={form.load} onChange={(v) => set('load', v)} error={errors.load} help="several values = a sweep" width={220} />
              <Field id="requestCount" label="Requests" value={form.requestCount} onChange={(v) => set('requestCount', v)} error={errors.requestCount} width={140} />
              <Field id="warmupRequestCount" label="Warmup requests" value={form.warmupRequestCount} onChange={(v) => set('warmupRequestCount', v)} error={errors.warmupRequestCount} width={140} />
              <label className="radio-line">
                <input type="checkbox" checked={form.streaming} onChange={(e) => set('streaming', e.target.checked)} data-testid="bench-streaming" />
                <span>Streaming</span>
                <span className="muted small">without it there is no TTFT or ITL</span>
              </label>
              <Field
                id="slos"
                label="Goodput SLOs (optional)"
                value={form.slos}
                onChange={(v) => set('slos', v)}
                error={errors.slos}
                help="e.g. time_to_first_token:200 inter_token_latency:20 (ms)"
              />
            </div>
          ) : null}
          <Field id="name" label="Name (optional)" value={form.name} onChange={(v) => set('name', v)} help="default: the deployment and the load point" width={360} />
          {startError ? <ErrorCallout error={startError} title="The benchmark did not start" testId="bench-start-error" /> : null}
          <div className="form-actions">
            <button type="button" className="btn btn-primary" onClick={() => void start()} disabled={starting} data-testid="bench-start">
              {starting ? 'Starting…' : 'Start benchmark'}
            </button>
            <button type="button" className="btn" onClick={() => navigate({ page: 'benchmarks', view: 'list' })}>
              Back
            </button>
          </div>
        </section>
      )}
    </div>
  );
}
