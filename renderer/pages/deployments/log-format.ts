/**
 * The controller, agent and router log JSON lines (`{"ts","level","msg",…}`, CONVENTIONS.md); the
 * log viewer shows them like the engines' own lines: time, level, component, message, then the
 * other fields as key=value. Anything else is shown as written.
 */
export interface ShownLogLine {
  level: 'debug' | 'info' | 'warn' | 'error' | null;
  text: string;
}

const LEVELS = new Set(['debug', 'info', 'warn', 'error']);

function timeOf(ts: unknown): string | null {
  if (typeof ts !== 'string') return null;
  const m = /T(\d\d:\d\d:\d\d)(\.\d+)?/.exec(ts);
  return m ? m[1]! : null;
}

function valueText(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  return JSON.stringify(v) ?? String(v);
}

export function formatLogLine(line: string): ShownLogLine {
  const trimmed = line.trimStart();
  if (trimmed.startsWith('{')) {
    let obj: unknown;
    try {
      obj = JSON.parse(trimmed);
    } catch {
      obj = null;
    }
    if (obj && typeof obj === 'object' && !Array.isArray(obj) && typeof (obj as Record<string, unknown>).msg === 'string') {
      const { ts, level, msg, component, ...rest } = obj as Record<string, unknown>;
      const lvl = typeof level === 'string' && LEVELS.has(level.toLowerCase()) ? (level.toLowerCase() as ShownLogLine['level']) : null;
      const parts = [
        timeOf(ts),
        typeof level === 'string' ? level.toUpperCase() : null,
        typeof component === 'string' ? `[${component}]` : null,
        msg as string,
        ...Object.entries(rest).map(([k, v]) => `${k}=${valueText(v)}`),
      ].filter((p): p is string => p !== null && p !== '');
      return { level: lvl, text: parts.join(' ') };
    }
  }
  const m = /^\s*(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)\b/.exec(line);
  const word = m?.[1];
  const level = word === 'DEBUG' ? 'debug' : word === 'INFO' ? 'info' : word === 'WARNING' || word === 'WARN' ? 'warn' : word ? 'error' : null;
  return { level, text: line };
}
