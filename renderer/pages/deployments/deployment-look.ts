import type { DeploymentViewState, ProcessView } from '../../../common/deployment-view';
import type { Tone } from '../hosts/host-state';

const DEPLOYMENT_TONES: Record<DeploymentViewState, Tone> = {
  starting: 'busy',
  ready: 'ok',
  degraded: 'warn',
  failed: 'bad',
  stopping: 'busy',
  stopped: 'idle',
  unknown: 'idle',
};

export function deploymentTone(state: DeploymentViewState): Tone {
  return DEPLOYMENT_TONES[state];
}

const PROCESS_TONES: Record<ProcessView['state'], Tone> = {
  pending: 'idle',
  starting: 'busy',
  loading: 'busy',
  ready: 'ok',
  failed: 'bad',
  crashed: 'bad',
  exited: 'warn',
  restarting: 'busy',
  stopping: 'busy',
  stopped: 'idle',
  unknown: 'idle',
};

export function processTone(state: ProcessView['state']): Tone {
  return PROCESS_TONES[state];
}

/** A process that ended badly: its last log lines are shown under its row. */
export function endedBadly(p: Pick<ProcessView, 'state' | 'exitCode'>): boolean {
  return p.state === 'crashed' || p.state === 'failed' || (p.state === 'exited' && p.exitCode !== 0);
}

/** Ended one way or another: a stop has nothing left to do for it. */
export function processEnded(state: ProcessView['state']): boolean {
  return state === 'stopped' || state === 'exited' || state === 'crashed' || state === 'failed';
}
