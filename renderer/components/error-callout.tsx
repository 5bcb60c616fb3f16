import type { ErrorPayload } from '../../common/errors';

/** An error as the user should read it: the message (what happened, what to do next), code aside. */
export function ErrorCallout(props: { error: ErrorPayload; title?: string; testId?: string; hint?: string }) {
  const { error, title, testId, hint } = props;
  return (
    <div className="callout callout-bad" role="alert" data-testid={testId ?? 'error-callout'} data-error-code={error.code}>
      <div className="callout-title">{title ?? 'Something went wrong'}</div>
      <div className="callout-body" data-testid={`${testId ?? 'error-callout'}-message`}>
        {error.message}
      </div>
      {hint ? <div className="callout-hint">{hint}</div> : null}
      <div className="callout-code">code: {error.code}</div>
    </div>
  );
}
