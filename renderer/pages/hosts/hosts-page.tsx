import type { Route } from '../../routes';
import { useApp } from '../../store/app-store';
import { AddHostForm } from './add-host-form';
import { HostList } from './host-list';
import { HostView } from './host-view';

export function HostsPage({ route }: { route: Extract<Route, { page: 'hosts' }> }) {
  const navigate = useApp((s) => s.navigate);
  if (route.view === 'add') return <AddHostForm />;
  if (route.view === 'host') return <HostView name={route.host} />;
  return (
    <div className="page" data-testid="page-hosts">
      <header className="page-head">
        <h1>Hosts</h1>
        <span className="spacer" />
        <button type="button" className="btn btn-primary" onClick={() => navigate({ page: 'hosts', view: 'add' })} data-testid="hosts-add">
          Add host
        </button>
      </header>
      <HostList />
    </div>
  );
}
