import { describe, expect, it } from 'vitest';
import { DeployApplyParams, findCycle } from './deploy-rpc';
import { AgentMethods, AgentNotifications } from './agent-rpc';

const proc = (name: string, dependsOn: string[] = []) => ({
  name,
  role: 'worker' as const,
  argv: ['vllm', 'serve', 'm'],
  port: 8100,
  readiness: { url: 'http://127.0.0.1:8100/health', timeoutS: 600 },
  dependsOn,
});

describe('deploy.apply params', () => {
  it('fills defaults: restart off, no env, no cleanup paths, 20 MiB logs keeping 3, no wait', () => {
    const p = DeployApplyParams.parse({ deploymentId: 'd1', name: 'x', simulated: false, spec: { any: 'thing' }, processes: [proc('a')] });
    expect(p.processes[0]).toMatchObject({ restart: 'off', env: {}, cleanupPaths: [], dependsOn: [] });
    expect(p.logs).toEqual({ maxBytes: 20 * 1024 * 1024, keep: 3 });
    expect(p.wait).toBe(false);
    expect(p.spec).toEqual({ any: 'thing' });
  });

  it("accepts the planner's restart object", () => {
    const p = DeployApplyParams.parse({ deploymentId: 'd1', name: 'x', simulated: false, spec: null, processes: [{ ...proc('a'), restart: { policy: 'on-failure', maxRestarts: 2, backoffS: 5 } }] });
    expect(p.processes[0]!.restart).toEqual({ policy: 'on-failure', maxRestarts: 2, backoffS: 5 });
  });

  it('refuses names that could escape the deployments directory', () => {
    for (const bad of ['../x', 'a/b', '', '.hidden', 'a b']) {
      expect(DeployApplyParams.safeParse({ deploymentId: bad, name: 'x', simulated: false, spec: null, processes: [proc('a')] }).success).toBe(false);
      expect(DeployApplyParams.safeParse({ deploymentId: 'd', name: 'x', simulated: false, spec: null, processes: [proc(bad)] }).success).toBe(false);
    }
  });

  it('refuses cleanup paths that are relative, shallow or climb', () => {
    for (const bad of ['/', '/tmp', 'tmp/x', '/tmp/../etc', '//']) {
      const r = DeployApplyParams.safeParse({ deploymentId: 'd', name: 'x', simulated: false, spec: null, processes: [{ ...proc('a'), cleanupPaths: [bad] }] });
      expect(r.success, bad).toBe(false);
    }
  });
});

describe('findCycle', () => {
  it('names the cycle in dependency order', () => {
    expect(findCycle([proc('a', ['b']), proc('b', ['c']), proc('c', ['a'])])).toEqual(['a', 'b', 'c', 'a']);
    expect(findCycle([proc('a'), proc('b', ['a']), proc('c', ['a', 'b'])])).toBeNull();
  });
});

describe('agent-rpc registry', () => {
  it('lists the supervisor methods and notifications', () => {
    for (const m of ['deploy.apply', 'deploy.status', 'deploy.teardown', 'deploy.remove', 'deploy.metrics', 'deploy.watch', 'deploy.unwatch', 'logs.tail', 'logs.unfollow']) expect(AgentMethods).toHaveProperty([m]);
    for (const n of ['deploy.progress', 'deploy.sample', 'logs.line']) expect(AgentNotifications).toHaveProperty([n]);
  });
});
