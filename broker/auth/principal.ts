import { BrokerError } from '../../shared/errors';
import type { Grant } from '../../shared/metadata/apps';
import type { TopicKind } from '../../shared/metadata/rows';

/** `*` is every name, `orders.*` every name that starts with `orders.`, anything else itself. */
export function patternMatches(pattern: string, name: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return name.startsWith(pattern.slice(0, -1));
  return pattern === name;
}

/** An authenticated app and what it may do. */
export class Principal {
  readonly isAdmin: boolean;

  constructor(
    readonly app: string,
    private readonly grants: readonly Grant[],
  ) {
    this.isAdmin = grants.some((g) => g.permission === 'admin');
  }

  private may(permission: 'produce' | 'consume', name: string): boolean {
    return this.isAdmin || this.grants.some((g) => g.permission === permission && patternMatches(g.resource, name));
  }

  requireAdmin(): void {
    if (!this.isAdmin) throw forbidden(this.app, 'the admin permission');
  }

  /**
   * Produce into `topic` (and read its messages back by id). A group's retry and dead topics
   * belong to that group: only an admin writes into them, whatever wildcard a grant has.
   */
  requireProduce(topic: string, kind: TopicKind | undefined): void {
    if (!this.may('produce', topic)) throw forbidden(this.app, `produce on topic ${topic}`);
    if (!this.isAdmin && kind !== undefined && kind !== 'normal') {
      throw forbidden(this.app, `the admin permission (${topic} is a ${kind} topic of a group)`);
    }
  }

  /** Register, heartbeat, pull, commit, fail and leave in `group`. */
  requireConsume(group: string): void {
    if (!this.may('consume', group)) throw forbidden(this.app, `consume in group ${group}`);
  }
}

function forbidden(app: string, needed: string): BrokerError {
  return new BrokerError('FORBIDDEN', `app ${app} lacks ${needed}`, { app, needed });
}

/** Who every request is when authentication is off: allowed everything, as before auth existed. */
export const ANONYMOUS = new Principal('anonymous', [{ permission: 'admin', resource: '' }]);
