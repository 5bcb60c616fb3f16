/** Structured log lines (one JSON object per line on stderr), as CONVENTIONS.md asks of the router. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface JsonLog {
  readonly level: LogLevel;
  enabled(level: LogLevel): boolean;
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void;
  /** Written at level info whatever the threshold: lines others wait for (e.g. "router listening"). */
  announce(msg: string, fields?: Record<string, unknown>): void;
}

export function createJsonLog(level: LogLevel, component: string, write: (line: string) => void = (l) => process.stderr.write(l)): JsonLog {
  const min = rank[level];
  return {
    level,
    enabled: (l) => rank[l] >= min,
    log(l, msg, fields) {
      if (rank[l] < min) return;
      write(JSON.stringify({ ts: new Date().toISOString(), level: l, component, msg, ...fields }) + '\n');
    },
    announce(msg, fields) {
      write(JSON.stringify({ ts: new Date().toISOString(), level: 'info', component, msg, ...fields }) + '\n');
    },
  };
}
