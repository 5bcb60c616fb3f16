import fs from 'node:fs';
import path from 'node:path';
import { UserFacingError } from '../../common/errors';
import { HANDOFF_VERSION } from '../../common/version';
import { kvprobePrebuiltBeside, type AgentArtifacts } from '../control/agent/agent-install';

/**
 * The agent bundle and Node runtimes the desktop app uploads, as laid out by build/build.ts in
 * dist/agent/ (next to dist/electron/). The app never builds them itself.
 */
export function desktopAgentArtifacts(agentDir: string): AgentArtifacts {
  const bundlePath = path.join(agentDir, 'handoff-agent.cjs');
  if (!fs.existsSync(bundlePath)) {
    throw new UserFacingError('agent-bundle-missing', `The host agent is not built (no ${bundlePath}). Run "npm run build" and start Handoff again.`);
  }
  return {
    version: HANDOFF_VERSION,
    bundlePath,
    runtimeTarball: async (arch) => {
      const name = fs.readdirSync(agentDir).find((f) => new RegExp(`^node-v[\\d.]+-linux-${arch}\\.tar\\.xz$`).test(f));
      if (!name) {
        throw new UserFacingError(
          'node-runtime-missing',
          `This host has no Node 20+ and Handoff ships no ${arch} Node runtime in this build. Install Node 20 or newer on the host, or build the runtime with "npx tsx build/node-runtime.ts ${arch}", then re-check.`,
        );
      }
      return path.join(agentDir, name);
    },
    kvprobePrebuiltDir: kvprobePrebuiltBeside(bundlePath),
  };
}
