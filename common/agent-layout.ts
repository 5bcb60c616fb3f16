/**
 * Where the agent lives on a host, relative to the agent home (default `~/.handoff`, overridable
 * with HANDOFF_AGENT_HOME for tests and for several users sharing one account). Plain string
 * joins: this file is shared by the controller (building remote paths) and the agent.
 */
export const AGENT_HOME_ENV = 'HANDOFF_AGENT_HOME';
export const AGENT_BUNDLE_NAME = 'handoff-agent.cjs';

export function agentLayout(home: string, version: string) {
  const dir = `${home}/agent/${version}`;
  return {
    home,
    /** Version-keyed install dir; complete only when `marker` exists (atomic unpack). */
    dir,
    bundle: `${dir}/${AGENT_BUNDLE_NAME}`,
    /** Uploaded runtime, only present when the host lacks Node >= 20. */
    nodeDir: `${dir}/node`,
    nodeBin: `${dir}/node/bin/node`,
    marker: `${dir}/.complete`,
    installLock: `${home}/agent/.install.lock`,
    socket: `${home}/agent.sock`,
    pidFile: `${home}/agent.pid`,
    daemonLog: `${home}/agent.log`,
    deploymentsDir: `${home}/deployments`,
    runsDir: `${home}/runs`,
  };
}
export type AgentLayout = ReturnType<typeof agentLayout>;
