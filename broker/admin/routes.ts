import { Router } from 'express';
import type { BrokerContext } from '../context';
import { checkName, parseId, validator } from '../http/validation';
import { actorOf } from './actor';
import { jobsRoutes } from './jobs-routes';
import { scheduledRoutes } from './scheduled-routes';
import { createGroup, describeGroup, groupLag, listConsumers, listSubscriptions, requireGroup, resetOffsets, setPaused, subscribe, type ResetTarget } from './group-service';
import { addDbNode, addSpareQueues, listNodes, requireNode, describeNode } from './node-service';
import * as schemas from './schemas';
import { createTopic, describeTopic, expandTopic, requireTopic, setQueueFlagsOfTopic } from './topic-service';
import { listGroups } from '../../shared/metadata/groups';
import { listTopics } from '../../shared/metadata/topics';

interface AddDbNodeBody { name: string; host: string; port: number; database: string; user: string; password: string; readOnly: boolean }
interface CreateTopicBody { name: string; queues: number; retentionHours?: number; maxMessageBytes?: number; owner?: string; dbNode?: string }
interface GroupBody { name: string; mode?: 'cluster' | 'broadcast'; maxRetries?: number }
interface SubscribeBody { topic: string; start?: 'latest' | 'earliest'; tags?: string[]; maxRetries?: number; backoffMs?: number[] }

const check = {
  addDbNode: validator<AddDbNodeBody>(schemas.addDbNodeSchema),
  createQueues: validator<{ count: number }>(schemas.createQueuesSchema),
  createTopic: validator<CreateTopicBody>(schemas.createTopicSchema),
  expandTopic: validator<{ queues: number; dbNode?: string }>(schemas.expandTopicSchema),
  queueFlags: validator<{ readable?: boolean; writable?: boolean }>(schemas.queueFlagsSchema),
  createGroup: validator<GroupBody>(schemas.createGroupSchema),
  subscribe: validator<SubscribeBody>(schemas.subscribeSchema),
  resetOffsets: validator<{ topic: string; to: ResetTarget }>(schemas.resetOffsetsSchema),
};

/** /api/v1/admin: db nodes, queues, topics, groups. Every change is audited by the services. */
export function adminRoutes(ctx: BrokerContext): Router {
  const r = Router();

  r.post('/db-nodes', async (req, res) => {
    res.status(201).json(await addDbNode(ctx, check.addDbNode(req.body), actorOf(req)));
  });
  r.get('/db-nodes', async (_req, res) => {
    res.json(await listNodes(ctx));
  });
  r.get('/db-nodes/:node', async (req, res) => {
    res.json(describeNode(await requireNode(ctx, checkName('dbNode', req.params.node))));
  });
  r.post('/db-nodes/:node/queues', async (req, res) => {
    const { count } = check.createQueues(req.body);
    res.status(201).json(await addSpareQueues(ctx, checkName('dbNode', req.params.node), count, actorOf(req)));
  });

  r.post('/topics', async (req, res) => {
    res.status(201).json(await createTopic(ctx, check.createTopic(req.body), actorOf(req)));
  });
  r.get('/topics', async (_req, res) => {
    const topics = await listTopics(ctx.db);
    res.json({ topics: await Promise.all(topics.map((t) => describeTopic(ctx, t))) });
  });
  r.get('/topics/:topic', async (req, res) => {
    res.json(await describeTopic(ctx, await requireTopic(ctx, checkName('topic', req.params.topic))));
  });
  r.post('/topics/:topic/expand', async (req, res) => {
    const body = check.expandTopic(req.body);
    res.json(await expandTopic(ctx, checkName('topic', req.params.topic), body.queues, actorOf(req), body.dbNode));
  });
  r.patch('/topics/:topic/queues/:queueId', async (req, res) => {
    const topic = checkName('topic', req.params.topic);
    const queueId = parseId('queueId', req.params.queueId);
    res.json(await setQueueFlagsOfTopic(ctx, topic, queueId, check.queueFlags(req.body), actorOf(req)));
  });

  r.post('/groups', async (req, res) => {
    res.status(201).json(await createGroup(ctx, check.createGroup(req.body), actorOf(req)));
  });
  r.get('/groups', async (_req, res) => {
    res.json({ groups: (await listGroups(ctx.db)).map(describeGroup) });
  });
  r.get('/groups/:group', async (req, res) => {
    const name = checkName('group', req.params.group);
    res.json({ ...describeGroup(await requireGroup(ctx, name)), subscriptions: await listSubscriptions(ctx, name) });
  });
  r.post('/groups/:group/subscriptions', async (req, res) => {
    res.status(201).json(await subscribe(ctx, checkName('group', req.params.group), check.subscribe(req.body), actorOf(req)));
  });
  r.get('/groups/:group/lag', async (req, res) => {
    res.json(await groupLag(ctx, checkName('group', req.params.group)));
  });
  r.get('/groups/:group/consumers', async (req, res) => {
    res.json(await listConsumers(ctx, checkName('group', req.params.group)));
  });
  r.post('/groups/:group/pause', async (req, res) => {
    res.json(await setPaused(ctx, checkName('group', req.params.group), true, actorOf(req)));
  });
  r.post('/groups/:group/resume', async (req, res) => {
    res.json(await setPaused(ctx, checkName('group', req.params.group), false, actorOf(req)));
  });
  r.post('/groups/:group/offsets/reset', async (req, res) => {
    const body = check.resetOffsets(req.body);
    res.json(await resetOffsets(ctx, checkName('group', req.params.group), body.topic, body.to, actorOf(req)));
  });

  r.use(jobsRoutes(ctx)); // GET /jobs: portal-jobs runs and leases
  r.use(scheduledRoutes(ctx)); // GET /scheduled: what waits in the schedule, and what is postponed
  return r;
}
