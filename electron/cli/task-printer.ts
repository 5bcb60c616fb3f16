import type { Task } from '../../common/task';

const MARK: Record<string, string> = { pending: ' ', running: '…', done: '✓', failed: '✗', skipped: '-' };

/**
 * The one CLI progress printer for long actions: prints each step when its state or detail
 * changes (one line per change, so it reads the same in a terminal and in a CI log).
 */
export class TaskPrinter {
  private readonly seen = new Map<string, string>();
  constructor(private readonly out: NodeJS.WritableStream = process.stderr, private readonly enabled = true) {}

  update(task: Task): void {
    if (!this.enabled) return;
    for (const s of task.steps) {
      if (s.state === 'pending') continue;
      const pct = s.progress !== undefined && s.state === 'running' ? ` ${Math.round(s.progress * 100)}%` : '';
      const line = `${MARK[s.state] ?? '?'} ${s.label}${s.detail ? ` — ${s.detail}` : ''}${pct}`;
      if (this.seen.get(s.id) === line) continue;
      // Progress percentages change often: print running lines only when the detail changes or at 25% marks.
      const prev = this.seen.get(s.id);
      if (prev && s.state === 'running' && s.progress !== undefined && stripPct(prev) === stripPct(line) && Math.floor(s.progress * 4) === Math.floor(pctOf(prev) * 4)) continue;
      this.seen.set(s.id, line);
      this.out.write(line + '\n');
    }
  }
}

function stripPct(line: string): string {
  return line.replace(/ \d+%$/, '');
}
function pctOf(line: string): number {
  const m = / (\d+)%$/.exec(line);
  return m ? Number(m[1]) / 100 : 0;
}
