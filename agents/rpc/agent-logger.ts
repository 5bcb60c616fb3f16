import fs from 'node:fs';

/**
 * Structured log lines (one JSON object per line: time, level, msg, context fields), the format the
 * controller and UI render (CONVENTIONS.md). The daemon writes them to agent.log; tests read them.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface AgentLogger {
  debug(msg: string, ctx?: Record<string, unknown>): void;
  info(msg: string, ctx?: Record<string, unknown>): void;
  warn(msg: string, ctx?: Record<string, unknown>): void;
  error(msg: string, ctx?: Record<string, unknown>): void;
  /** A logger that adds these fields to every line. */
  child(fields: Record<string, unknown>): AgentLogger;
}

export type LogSink = (line: string) => void;

export function parseLogLevel(text: string | undefined, fallback: LogLevel = 'info'): LogLevel {
  return text === 'debug' || text === 'info' || text === 'warn' || text === 'error' ? text : fallback;
}

export function createLogger(sink: LogSink, minLevel: LogLevel = 'info', base: Record<string, unknown> = {}): AgentLogger {
  const emit = (level: LogLevel, msg: string, ctx?: Record<string, unknown>) => {
    if (RANK[level] < RANK[minLevel]) return;
    let line: string;
    try {
      line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...base, ...ctx });
    } catch {
      // Context with cycles or BigInt must not take the daemon down; keep the message.
      line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...base, ctxError: 'unserialisable context' });
    }
    sink(line + '\n');
  };
  return {
    debug: (m, c) => emit('debug', m, c),
    info: (m, c) => emit('info', m, c),
    warn: (m, c) => emit('warn', m, c),
    error: (m, c) => emit('error', m, c),
    child: (fields) => createLogger(sink, minLevel, { ...base, ...fields }),
  };
}

/**
 * Appends to a file opened with O_APPEND, so lines from the daemon and from its redirected
 * stdout/stderr (crash traces) interleave without overwriting each other. Synchronous writes: a
 * log line is never lost when the process dies right after writing it, and the daemon logs rarely.
 */
export function fileLogSink(path: string): { sink: LogSink; close(): void } {
  const fd = fs.openSync(path, 'a', 0o600);
  let open = true;
  return {
    sink: (line) => {
      if (!open) return;
      try {
        fs.writeSync(fd, line);
      } catch {
        // A full disk must not crash the daemon; the lines are lost.
      }
    },
    close: () => {
      if (!open) return;
      open = false;
      fs.closeSync(fd);
    },
  };
}

/** Errors as plain fields for a log line. */
export function errorFields(err: unknown): Record<string, unknown> {
  if (err instanceof Error) return { error: err.message, ...(err.stack ? { stack: err.stack } : {}) };
  return { error: String(err) };
}
