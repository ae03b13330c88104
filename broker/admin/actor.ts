import type { Request } from 'express';

/** Who made an admin change, for the audit log. There is no auth yet: the caller may name itself. */
export function actorOf(req: Request): string {
  const named = req.header('x-tablemq-actor');
  const actor = named && /^[\w.@:-]{1,200}$/.test(named) ? named : 'admin';
  return `${actor}@${req.ip ?? 'unknown'}`;
}
