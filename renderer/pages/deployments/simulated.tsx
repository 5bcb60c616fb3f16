import { useEffect } from 'react';
import { useApp } from '../../store/app-store';

/** Said on every screen that shows a mocker deployment (DESIGN.md: always labelled as simulated). */
export const SIMULATED_TEXT =
  'SIMULATED: the mocker engine imitates vLLM (same API, flags and metric names) with a latency model. No GPU is used and no model runs: every number it shows is modelled, not measured.';

export function SimulatedBadge({ testId = 'simulated-badge' }: { testId?: string }) {
  return (
    <span className="badge badge-simulated" data-testid={testId} title={SIMULATED_TEXT}>
      Simulated
    </span>
  );
}

/** Shows the simulated banner while `active`, and takes it down when the screen goes. */
export function useSimulatedNotice(active: boolean, text: string = SIMULATED_TEXT): void {
  const showNotice = useApp((s) => s.showNotice);
  const dismissNotice = useApp((s) => s.dismissNotice);
  useEffect(() => {
    if (!active) return;
    showNotice({ id: 'simulated', tone: 'warning', text });
    return () => dismissNotice('simulated');
  }, [active, text, showNotice, dismissNotice]);
}
