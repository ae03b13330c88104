import { Router } from 'express';
import type { BrokerContext } from '../context';
import { checkName, parseId, validator } from '../http/validation';
import { commit, type CommitRequest } from './commit';
import { heartbeat, leave, register } from './membership';
import { pull, type PullRequest } from './pull';
import { commitSchema, failSchema, pullSchema, registerSchema } from './schemas';
import { fail, type FailRequest } from './fail';

const check = {
  register: validator<{ name: string; host?: string }>(registerSchema),
  pull: validator<PullRequest>(pullSchema),
  commit: validator<CommitRequest>(commitSchema),
  fail: validator<FailRequest>(failSchema),
};

/** /api/v1/groups/{group}/consumers: the consumer protocol (DESIGN.md section 4). */
export function consumeRoutes(ctx: BrokerContext): Router {
  const r = Router();

  r.post('/:group/consumers', async (req, res) => {
    const body = check.register(req.body ?? {});
    res.status(201).json(await register(ctx, checkName('group', req.params.group), body.name, body.host ?? req.ip ?? null));
  });

  r.post('/:group/consumers/:id/heartbeat', async (req, res) => {
    res.json(await heartbeat(ctx, checkName('group', req.params.group), parseId('consumerId', req.params.id)));
  });

  r.post('/:group/consumers/:id/pull', async (req, res) => {
    const group = checkName('group', req.params.group);
    const consumerId = parseId('consumerId', req.params.id);
    const body = check.pull(req.body ?? {});
    // A client that hangs up, or a broker that shuts down, ends the long-poll early.
    const abort = new AbortController();
    const onClose = () => abort.abort();
    res.on('close', onClose);
    ctx.closing.addEventListener('abort', onClose, { once: true });
    try {
      const json = await pull(ctx, group, consumerId, body, abort.signal);
      if (!res.writableEnded && !res.destroyed) res.type('application/json').send(json);
    } finally {
      res.off('close', onClose);
      ctx.closing.removeEventListener('abort', onClose);
    }
  });

  r.post('/:group/consumers/:id/commit', async (req, res) => {
    res.json(await commit(ctx, checkName('group', req.params.group), parseId('consumerId', req.params.id), check.commit(req.body)));
  });

  r.post('/:group/consumers/:id/fail', async (req, res) => {
    res.json(await fail(ctx, checkName('group', req.params.group), parseId('consumerId', req.params.id), check.fail(req.body)));
  });

  r.delete('/:group/consumers/:id', async (req, res) => {
    res.json(await leave(ctx, checkName('group', req.params.group), parseId('consumerId', req.params.id)));
  });

  return r;
}
