import { PAGES, type PageId, type Route } from '../routes';
import { useApp } from '../store/app-store';

const LABELS: Record<PageId, string> = {
  hosts: 'Hosts',
  deployments: 'Deployments',
  playground: 'Playground',
  benchmarks: 'Benchmarks',
  reports: 'Reports',
};

function routeFor(page: PageId): Route {
  if (page === 'hosts') return { page: 'hosts', view: 'list' };
  if (page === 'deployments') return { page: 'deployments', view: 'list' };
  if (page === 'benchmarks') return { page: 'benchmarks', view: 'list' };
  return { page };
}

export function Sidebar() {
  const current = useApp((s) => s.route.page);
  const navigate = useApp((s) => s.navigate);
  const version = useApp((s) => s.appInfo?.version ?? null);
  const mode = useApp((s) => s.appInfo?.mode ?? null);
  const connection = useApp((s) => s.connection.state);
  return (
    <nav className="sidebar" aria-label="Main">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true" />
        <span className="brand-name">Handoff</span>
      </div>
      <ul className="nav">
        {PAGES.map((page) => (
          <li key={page}>
            <a
              href={`#/${page}`}
              className={`nav-item${current === page ? ' nav-item-active' : ''}`}
              aria-current={current === page ? 'page' : undefined}
              data-testid={`nav-${page}`}
              onClick={(e) => {
                e.preventDefault();
                navigate(routeFor(page));
              }}
            >
              {LABELS[page]}
            </a>
          </li>
        ))}
      </ul>
      <div className="sidebar-foot" data-testid="app-info">
        <span className={`conn-dot conn-${connection}`} title={`connection: ${connection}`} data-testid="connection-state" data-state={connection} />
        <span>{version ? `v${version}` : ''}</span>
        <span className="muted">{mode === 'browser' ? 'browser' : mode === 'electron' ? 'desktop' : ''}</span>
      </div>
    </nav>
  );
}
