import type { ApiEvent, HandoffApi } from '../../common/api-contract';
import type { ConnectionAware } from '../transport/connection-status';
import type { AppStore } from './app-store';
import { startChatSync } from './chat-sync';
import { startDeploymentsSync } from './deployments-slice';
import { startRunsSync } from './runs-slice';

/**
 * Keeps the store in step with the controller: events as they come, and a full reload whenever
 * the connection (re)opens, since events sent while disconnected are lost.
 */
export function startSync(store: AppStore, api: HandoffApi & ConnectionAware): () => void {
  const s = () => store.getState();
  const chat = startChatSync(store, api);
  const reload = async (): Promise<void> => {
    const info = await api.call('app.info').catch(() => null);
    if (info) s().setAppInfo(info);
    await Promise.all([s().loadHosts(), s().loadTasks(), chat.reload(), s().loadDeployments(), s().loadRuns()]);
  };
  const offs = [
    chat.off,
    startDeploymentsSync(store, api),
    startRunsSync(store, api),
    api.on('hosts.changed', (hosts: ApiEvent<'hosts.changed'>) => s().setHosts(hosts)),
    api.on('task.updated', (task: ApiEvent<'task.updated'>) => s().upsertTask(task)),
    api.onConnection((c) => {
      s().setConnection(c);
      if (c.state === 'open') void reload();
    }),
  ];
  s().setConnection(api.connection);
  if (api.connection.state === 'open') void reload();
  return () => offs.forEach((off) => off());
}
