import os from 'node:os';
import path from 'node:path';
import { AGENT_HOME_ENV } from '../../common/agent-layout';

/** $HANDOFF_AGENT_HOME (tests, several users sharing one account) or ~/.handoff; always absolute. */
export function resolveAgentHome(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[AGENT_HOME_ENV];
  return path.resolve(fromEnv && fromEnv.length > 0 ? fromEnv : path.join(os.homedir(), '.handoff'));
}
