import { useState } from 'react';
import type { DeploymentView } from '../../../common/deployment-view';
import type { ErrorPayload } from '../../../common/errors';
import { ErrorCallout } from '../../components/error-callout';
import { useApp } from '../../store/app-store';

/** A copy-paste request that proves the endpoint answers. */
export function curlExample(baseUrl: string, model: string): string {
  const body = JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello!' }], max_tokens: 32 });
  return `curl ${baseUrl}/chat/completions -H 'Content-Type: application/json' -d '${body}'`;
}

/**
 * The OpenAI-compatible endpoint: usable as is when the router runs on this computer, else
 * through an SSH local forward (deployments.forward), since routers bind 127.0.0.1 on their host.
 */
export function EndpointCard({ view }: { view: DeploymentView }) {
  const { endpoint } = view;
  const local = useApp((s) => s.hosts.find((h) => h.config.name === endpoint.host)?.config.kind === 'local');
  const forward = useApp((s) => s.forwards[view.id]);
  const forwardDeployment = useApp((s) => s.forwardDeployment);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ErrorPayload | null>(null);
  const stopped = view.state === 'stopped';
  const usable = local ? endpoint.openaiBaseUrl : (forward?.url ?? null);
  const onForward = (): void => {
    setBusy(true);
    setError(null);
    void forwardDeployment(view.id).then((r) => {
      setBusy(false);
      if (!r.ok) setError(r.error);
    });
  };
  return (
    <section className="card" data-testid="endpoint-card">
      <h2 className="card-title">
        Endpoint
        {stopped ? (
          <span className="muted small" data-testid="endpoint-stopped">
            not served: the deployment is stopped
          </span>
        ) : null}
      </h2>
      <dl className="facts facts-tight">
        <dt>OpenAI base URL</dt>
        <dd className="mono" data-testid="endpoint-url">
          {endpoint.openaiBaseUrl} <span className="muted">on {endpoint.host}</span>
        </dd>
        <dt>Model</dt>
        <dd className="mono" data-testid="endpoint-model">
          {endpoint.model}
        </dd>
        {!local ? (
          <>
            <dt>From this computer</dt>
            <dd>
              {forward ? (
                <span className="mono" data-testid="endpoint-forward-url">
                  {forward.url}
                </span>
              ) : (
                <>
                  <button type="button" className="btn btn-small" onClick={onForward} disabled={busy || stopped} data-testid="endpoint-forward">
                    {busy ? 'Opening…' : 'Forward to this computer'}
                  </button>{' '}
                  <span className="muted small">The router listens on 127.0.0.1 of {endpoint.host}; an SSH tunnel brings it to a local port.</span>
                </>
              )}
            </dd>
          </>
        ) : null}
      </dl>
      {error ? <ErrorCallout error={error} title="Could not open the tunnel" testId="endpoint-forward-error" /> : null}
      {usable && !stopped ? (
        <pre className="code-block" data-testid="endpoint-curl">
          {curlExample(usable, endpoint.model)}
        </pre>
      ) : null}
    </section>
  );
}
