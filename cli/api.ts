import { Transport } from '../client/transport';

/** The options every command shares. */
export interface GlobalOptions {
  broker: string[];
  token?: string;
  json: boolean;
}

/**
 * The admin and consumer calls of the CLI, over the client library's transport (failover across
 * --broker URLs, Retry-After honoured, a typed error for every refusal).
 */
export class Api {
  private readonly transport: Transport;

  constructor(readonly options: GlobalOptions) {
    // A command line waits a little for a broker that is restarting, not half a minute.
    this.transport = new Transport({ brokers: options.broker, token: options.token, retryForMs: 5_000 });
  }

  get<T = unknown>(path: string): Promise<T> {
    return this.transport.call<T>('GET', path, undefined);
  }

  post<T = unknown>(path: string, body: unknown = {}): Promise<T> {
    return this.transport.call<T>('POST', path, JSON.stringify(body));
  }

  patch<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.transport.call<T>('PATCH', path, JSON.stringify(body));
  }

  delete<T = unknown>(path: string, body?: unknown): Promise<T> {
    return this.transport.call<T>('DELETE', path, body === undefined ? undefined : JSON.stringify(body));
  }

  put<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.transport.call<T>('PUT', path, JSON.stringify(body));
  }
}

/** A path segment from a user's argument (names are checked by the broker). */
export const seg = (value: string | number) => encodeURIComponent(String(value));
