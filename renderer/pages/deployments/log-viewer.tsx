import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { ErrorPayload } from '../../../common/errors';
import { ErrorCallout } from '../../components/error-callout';
import { useApp } from '../../store/app-store';
import { formatLogLine } from './log-format';

/** Lines drawn at once; the full log stays in the file on the host (handoff logs ID). */
export const LOG_LINES_SHOWN = 1000;

const UNKNOWN_RETRY_MS = 300;
const UNKNOWN_RETRIES = 40;

/**
 * Logs of a deployment: the last lines of every process, then new lines as they are written
 * (deployments.logs with follow). Lines are kept outside React (LogBook) and drawn capped.
 */
export function LogViewer({ id, processes, live, heightPx = 320 }: { id: string; processes: readonly string[]; live: boolean; heightPx?: number }) {
  const followLogs = useApp((s) => s.followLogs);
  const connected = useApp((s) => s.connection.state === 'open');
  const version = useApp((s) => s.logsVersion);
  const book = useApp((s) => s.live.logs);
  const [process, setProcess] = useState<string | null>(null);
  const [follow, setFollow] = useState(true);
  const [error, setError] = useState<ErrorPayload | null>(null);
  const [loaded, setLoaded] = useState(false);
  // A deployment being started reaches its host's agent a moment after the controller names it.
  const [retry, setRetry] = useState(0);
  const boxRef = useRef<HTMLDivElement>(null);
  const pinnedRef = useRef(true);

  // Following: the last lines, then every new one; a stopped deployment gets its last lines once.
  useEffect(() => {
    if (!connected || !follow) return;
    let stop: (() => void) | null = null;
    let gone = false;
    let again: ReturnType<typeof setTimeout> | null = null;
    void followLogs(id).then((r) => {
      if (gone) {
        if (r.ok) r.value();
        return;
      }
      if (!r.ok && r.error.code === 'unknown-deployment' && live && retry < UNKNOWN_RETRIES) {
        again = setTimeout(() => setRetry((n) => n + 1), UNKNOWN_RETRY_MS);
        return;
      }
      setLoaded(true);
      if (!r.ok) {
        setError(r.error);
        return;
      }
      setError(null);
      if (!live) r.value();
      else stop = r.value;
    });
    return () => {
      gone = true;
      if (again) clearTimeout(again);
      stop?.();
    };
  }, [id, connected, follow, live, followLogs, retry]);

  // `version` stands for the LogBook's contents, which change in place.
  const lines = useMemo(() => book.lines(id, process, LOG_LINES_SHOWN), [book, id, process, version]);
  const known = useMemo(() => Array.from(new Set([...processes, ...book.processes(id)])), [processes, book, id, version]);

  useLayoutEffect(() => {
    const el = boxRef.current;
    if (el && follow && pinnedRef.current) el.scrollTop = el.scrollHeight;
  }, [lines, follow]);

  return (
    <section className="card log-viewer" data-testid="log-viewer">
      <h2 className="card-title">
        Logs
        <span className="spacer" />
        <label className="inline-field">
          <span className="muted small">Process</span>
          <select value={process ?? ''} onChange={(e) => setProcess(e.target.value || null)} data-testid="log-process">
            <option value="">all processes</option>
            {known.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <label className="inline-field">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} disabled={!live} data-testid="log-follow" />
          <span className="small">Follow</span>
        </label>
      </h2>
      {error ? <ErrorCallout error={error} title="Could not read the logs" testId="log-error" /> : null}
      <div
        className="log-box mono"
        ref={boxRef}
        style={{ height: heightPx }}
        onScroll={(e) => {
          const el = e.currentTarget;
          // Scrolled up to read: stop jumping to the bottom until the user comes back down.
          pinnedRef.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
        data-testid="log-lines"
        data-count={lines.length}
      >
        {lines.length === 0 ? (
          <div className="muted log-empty">{loaded ? 'No log lines yet.' : 'Loading…'}</div>
        ) : (
          lines.map((l) => {
            const shown = formatLogLine(l.line);
            return (
              <div key={l.seq} className={`log-line${shown.level ? ` log-${shown.level}` : ''}`} data-process={l.process}>
                {process === null ? <span className="log-proc">{l.process}</span> : null}
                <span className="log-text">{shown.text}</span>
              </div>
            );
          })
        )}
      </div>
      <p className="muted small log-foot">
        {lines.length >= LOG_LINES_SHOWN ? `Showing the newest ${LOG_LINES_SHOWN} lines. ` : ''}
        The full logs are on the hosts: <code>handoff logs {id}</code>
      </p>
    </section>
  );
}
