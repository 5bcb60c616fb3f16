import type { ApiEventEnvelope } from '../../common/api-contract';

/**
 * What a transport (Electron IPC adapter, `handoff serve` WebSocket) needs from the controller:
 * dispatch one call by method name (params validated inside against common/api-contract.ts) and
 * subscribe to events. Errors are thrown as UserFacingError and carried as ErrorPayload.
 */
export interface ApiHandler {
  handle(method: string, params: unknown): Promise<unknown>;
  subscribe(listener: (envelope: ApiEventEnvelope) => void): () => void;
}
