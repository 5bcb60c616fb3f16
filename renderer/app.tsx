import { BannerArea } from './components/banner-area';
import { Sidebar } from './components/sidebar';
import { TaskPromptDialog } from './components/task-prompt-dialog';
import { BenchmarksPage } from './pages/benchmarks/benchmarks-page';
import { DeploymentsPage } from './pages/deployments/deployments-page';
import { HostsPage } from './pages/hosts/hosts-page';
import { PlaygroundPage } from './pages/playground/playground-page';
import { ReportsPage } from './pages/reports/reports-page';
import { useApp } from './store/app-store';

function CurrentPage() {
  const route = useApp((s) => s.route);
  if (route.page === 'hosts') return <HostsPage route={route} />;
  if (route.page === 'deployments') return <DeploymentsPage route={route} />;
  if (route.page === 'playground') return <PlaygroundPage />;
  if (route.page === 'benchmarks') return <BenchmarksPage route={route} />;
  return <ReportsPage />;
}

export function App() {
  return (
    <div className="shell">
      <Sidebar />
      <main className="main">
        <BannerArea />
        <div className="content">
          <CurrentPage />
        </div>
      </main>
      <TaskPromptDialog />
    </div>
  );
}

/** Shown instead of the app when it cannot even start talking to the controller. */
export function StartupError({ message }: { message: string }) {
  return (
    <div className="startup-error" data-testid="startup-error" role="alert">
      <h1>Handoff cannot start</h1>
      <p>{message}</p>
    </div>
  );
}
