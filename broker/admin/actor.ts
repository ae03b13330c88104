import type { Request } from 'express';
import { principalOf } from '../auth/guards';

/** Who made an admin change, for the audit log: the authenticated app (`anonymous` with auth off) and its address. */
export function actorOf(req: Request): string {
  return `${principalOf(req.res!).app}@${req.ip ?? 'unknown'}`;
}
