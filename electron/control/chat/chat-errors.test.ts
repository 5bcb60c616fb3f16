import { describe, expect, it } from 'vitest';
import { connectionChatError, httpChatError, openAiErrorMessage } from './chat-errors';

const t = { deploymentName: 'mocker-disaggregated', local: '127.0.0.1:5000', remote: '127.0.0.1:8181', host: 'this-computer' };

describe('chat errors', () => {
  it('turns vLLM’s context-length 400 into context-too-long with what to do', () => {
    const body = JSON.stringify({ error: { message: "This model's maximum context length is 256 tokens. However, you requested 900 tokens (400 in the messages, 500 in the completion).", type: 'BadRequestError', code: 400 } });
    const e = httpChatError(400, body, t);
    expect(e.code).toBe('context-too-long');
    expect(e.message).toMatch(/maximum context length is 256 tokens/);
    expect(e.message).toMatch(/Start a new conversation .* or lower max_tokens/);
  });

  it('names the deployment and the commands to check it for router errors and refused connections', () => {
    const r = httpChatError(502, JSON.stringify({ error: { message: 'The decode leg failed: connection refused.' } }), t);
    expect(r.code).toBe('router-error');
    expect(r.message).toMatch(/handoff status mocker-disaggregated/);
    expect(r.message).toMatch(/handoff logs mocker-disaggregated --worker router/);
    const down = connectionChatError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), t);
    expect(down.code).toBe('deployment-down');
    expect(down.message).toMatch(/does not answer .*connection refused/);
    expect(httpChatError(400, '{"error":{"message":"temperature must be >= 0"}}', t).code).toBe('request-rejected');
  });

  it('reads error messages from OpenAI bodies, plain strings and garbage alike', () => {
    expect(openAiErrorMessage('{"error":{"message":"m"}}')).toBe('m');
    expect(openAiErrorMessage('{"message":"flat"}')).toBe('flat');
    expect(openAiErrorMessage('<html>bad gateway</html>')).toBe('<html>bad gateway</html>');
    expect(openAiErrorMessage('')).toBe('(empty body)');
  });
});
