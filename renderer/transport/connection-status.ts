/** Where the renderer stands with the controller; the banner area shows anything but 'open'. */
export type ConnectionStatus =
  | { state: 'connecting' }
  | { state: 'open' }
  | { state: 'lost'; message: string; retryInMs: number };

export interface ConnectionAware {
  readonly connection: ConnectionStatus;
  onConnection(listener: (s: ConnectionStatus) => void): () => void;
}
