import { timingSafeEqual } from 'node:crypto';
import type { Config } from '../../shared/config';
import { BrokerError } from '../../shared/errors';
import type { MetadataDb } from '../../shared/db/metadata-db';
import { findTokenOwner } from '../../shared/metadata/apps';
import { ANONYMOUS, Principal } from './principal';
import { bearerToken, hashToken } from './tokens';

/** Bounds the cache's memory; a full cache drops its oldest entry. */
const MAX_CACHED_TOKENS = 10_000;

interface CacheEntry {
  /** Undefined for an unknown token (cached too, so repeating a bad token costs no query). */
  principal: Promise<Principal | undefined>;
  expiresAt: number;
}

/**
 * Turns an Authorization header into a Principal. Token lookups are cached for `authCacheMs`, so
 * a produce costs a hash and a map lookup, not a metadata query; a token revoked or a grant
 * removed through another broker keeps working here until its entry expires (this broker's own
 * admin changes call `forget()`).
 */
export class Authenticator {
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    private readonly db: MetadataDb,
    private readonly config: Pick<Config, 'auth' | 'authCacheMs'>,
  ) {}

  get enabled(): boolean {
    return this.config.auth === 'on';
  }

  async authenticate(authorization: string | undefined): Promise<Principal> {
    if (!this.enabled) return ANONYMOUS;
    const token = bearerToken(authorization);
    if (token === undefined) {
      throw new BrokerError('UNAUTHENTICATED', authorization === undefined ? 'this route needs an Authorization: Bearer <token> header' : 'the Authorization header is not a bearer token');
    }
    const principal = await this.lookup(hashToken(token));
    if (!principal) throw new BrokerError('UNAUTHENTICATED', 'unknown or revoked token');
    return principal;
  }

  /** Drops every cached token, so this broker's own changes to apps apply at once. */
  forget(): void {
    this.cache.clear();
  }

  private lookup(hash: Buffer): Promise<Principal | undefined> {
    const key = hash.toString('base64');
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.expiresAt > now) return hit.principal;
    this.cache.delete(key);
    const principal = this.load(hash);
    if (this.config.authCacheMs > 0) {
      if (this.cache.size >= MAX_CACHED_TOKENS) this.cache.delete(this.cache.keys().next().value!);
      const entry = { principal, expiresAt: now + this.config.authCacheMs };
      this.cache.set(key, entry);
      // A failed lookup (database down) is not an answer to remember.
      principal.catch(() => {
        if (this.cache.get(key) === entry) this.cache.delete(key);
      });
    }
    return principal;
  }

  private async load(hash: Buffer): Promise<Principal | undefined> {
    const owner = await findTokenOwner(this.db, hash);
    // The index found the row by hash; compare once more without a data-dependent time.
    if (!owner || owner.storedHash.length !== hash.length || !timingSafeEqual(owner.storedHash, hash)) return undefined;
    return new Principal(owner.app.name, owner.grants);
  }
}
