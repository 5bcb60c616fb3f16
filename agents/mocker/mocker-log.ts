/**
 * Log lines shaped like vLLM's (`INFO 11-26 12:00:00 [file.py:123] message`), so tools that scan
 * vLLM logs (the "KV Transfer metrics" line, startup messages) work on the mocker too. The location
 * tag is `[mocker]`, one more place that says the engine is simulated.
 */
export type LogLevel = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';

export interface MockerLog {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

function stamp(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function formatLogLine(level: LogLevel, msg: string, at = new Date()): string {
  return `${level} ${stamp(at)} [mocker] ${msg}`;
}

/** A logger writing whole lines to `write` (stdout for the CLI, a buffer or nothing in tests). */
export function createLog(write: (line: string) => void): MockerLog {
  return {
    info: (m) => write(formatLogLine('INFO', m)),
    warn: (m) => write(formatLogLine('WARNING', m)),
    error: (m) => write(formatLogLine('ERROR', m)),
  };
}
