import type { Tone } from '../hosts/host-state';

/** The same chip as the hosts' status, for deployment and process states. */
export function StateChip({ state, tone, testId, title }: { state: string; tone: Tone; testId: string; title?: string }) {
  return (
    <span className={`chip chip-${tone}`} data-testid={testId} data-state={state} title={title}>
      <span className="chip-dot" aria-hidden="true" />
      {state}
    </span>
  );
}
