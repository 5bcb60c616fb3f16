import type { ErrorPayload } from '../../../common/errors';

/** Who the user should ask about, in messages: the deployment's name and where its router is. */
export interface ChatTarget {
  deploymentName: string;
  /** 127.0.0.1:PORT on this computer. */
  local: string;
  /** The router's address on its host. */
  remote: string;
  host: string;
}

const statusHint = (t: ChatTarget) => `Check it with "handoff status ${t.deploymentName}" (or on the Deployments page)`;

/** The `error.message` of an OpenAI-shaped body, or the body's start. */
export function openAiErrorMessage(body: string): string {
  try {
    const v: unknown = JSON.parse(body);
    if (v && typeof v === 'object') {
      const e = (v as { error?: unknown; message?: unknown; detail?: unknown }).error ?? v;
      if (e && typeof e === 'object') {
        const m = (e as { message?: unknown }).message;
        if (typeof m === 'string' && m) return m;
      }
      if (typeof e === 'string' && e) return e;
    }
  } catch {
    // not JSON: fall through
  }
  const text = body.trim();
  return text ? text.slice(0, 500) : '(empty body)';
}

const CONTEXT_TOO_LONG = /maximum context length|max_model_len|context length|too many tokens|reduce the length/i;

/** An HTTP error answer of the router, as something the user can act on. */
export function httpChatError(status: number, body: string, t: ChatTarget): ErrorPayload {
  const msg = openAiErrorMessage(body);
  if (status === 400 && CONTEXT_TOO_LONG.test(msg)) {
    return {
      code: 'context-too-long',
      message: `The conversation does not fit the model's context: ${msg} Start a new conversation (or shorten the system prompt), or lower max_tokens.`,
      details: { status },
    };
  }
  if (status === 404) {
    return { code: 'model-not-found', message: `${msg} The deployment serves another model than the playground asked for; reload the page to pick the deployment again.`, details: { status } };
  }
  if (status >= 400 && status < 500) {
    return { code: 'request-rejected', message: `The deployment rejected the request (HTTP ${status}): ${msg} Check the parameters (temperature, top_p, max_tokens, seed, stop).`, details: { status } };
  }
  return {
    code: 'router-error',
    message: `The router of "${t.deploymentName}" answered HTTP ${status}: ${msg} ${statusHint(t)} and read its router log with "handoff logs ${t.deploymentName} --worker router".`,
    details: { status },
  };
}

/** No HTTP answer at all: the tunnel, the router or its host is gone. */
export function connectionChatError(err: Error & { code?: string }, t: ChatTarget): ErrorPayload {
  const why = err.code === 'ECONNREFUSED' ? 'connection refused' : err.code === 'ECONNRESET' || /socket hang up/.test(err.message) ? 'the connection was closed before any answer' : err.message;
  return {
    code: 'deployment-down',
    message: `Deployment "${t.deploymentName}" does not answer (router ${t.remote} on ${t.host}, reached through ${t.local}): ${why}. It may have stopped or crashed. ${statusHint(t)}, and deploy it again if it stopped.`,
  };
}

export function droppedChatError(t: ChatTarget): ErrorPayload {
  return {
    code: 'stream-dropped',
    message: `The connection to "${t.deploymentName}" closed in the middle of the answer. The router or the SSH connection to ${t.host} went away; ${statusHint(t)} and try again.`,
  };
}

/** An `{"error": …}` event inside the stream: the router or worker failed after the answer started. */
export function streamChatError(message: string, t: ChatTarget): ErrorPayload {
  return {
    code: 'router-error',
    message: `The answer stopped with an error from the deployment: ${message} ${statusHint(t)} and read its logs with "handoff logs ${t.deploymentName}".`,
  };
}
