import { useApp } from '../store/app-store';

/**
 * The strip above every page for facts that must stay visible: a lost connection now, and the
 * "simulated engine" notices of deployments later. Empty, it takes no room.
 */
export function BannerArea() {
  const connection = useApp((s) => s.connection);
  const notices = useApp((s) => s.notices);
  const dismiss = useApp((s) => s.dismissNotice);
  return (
    <div className="banner-area" data-testid="banner-area" role="status" aria-live="polite">
      {connection.state === 'lost' ? (
        <div className="banner banner-error" data-testid="banner-connection">
          {connection.message}
        </div>
      ) : null}
      {notices.map((n) => (
        <div key={n.id} className={`banner banner-${n.tone}`} data-testid={`banner-${n.id}`}>
          <span>{n.text}</span>
          {n.dismissible ? (
            <button type="button" className="banner-close" aria-label="Dismiss" onClick={() => dismiss(n.id)} data-testid={`banner-${n.id}-dismiss`}>
              ×
            </button>
          ) : null}
        </div>
      ))}
    </div>
  );
}
