import { Router } from 'express';
import type { BrokerContext } from '../context';
import { checkName, parseId, validator } from '../http/validation';
import { heartbeat, leave, register } from './membership';
import { failSchema, registerSchema } from './schemas';
import { fail, type FailRequest } from './fail';

const check = {
  register: validator<{ name: string; host?: string }>(registerSchema),
  fail: validator<FailRequest>(failSchema),
};

/**
 * /api/v1/groups/{group}/consumers: the consumer protocol (DESIGN.md section 4). Pull and commit,
 * the busy calls, are hot routes served by hot-routes.ts.
 */
export function consumeRoutes(ctx: BrokerContext): Router {
  const r = Router();

  r.post('/:group/consumers', async (req, res) => {
    const body = check.register(req.body ?? {});
    res.status(201).json(await register(ctx, checkName('group', req.params.group), body.name, body.host ?? req.ip ?? null));
  });

  r.post('/:group/consumers/:id/heartbeat', async (req, res) => {
    res.json(await heartbeat(ctx, checkName('group', req.params.group), parseId('consumerId', req.params.id)));
  });

  r.post('/:group/consumers/:id/fail', async (req, res) => {
    res.json(await fail(ctx, checkName('group', req.params.group), parseId('consumerId', req.params.id), check.fail(req.body)));
  });

  r.delete('/:group/consumers/:id', async (req, res) => {
    res.json(await leave(ctx, checkName('group', req.params.group), parseId('consumerId', req.params.id)));
  });

  return r;
}
