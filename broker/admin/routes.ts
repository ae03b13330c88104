import type { BrokerContext } from '../context';
import { route, type ApiRoute } from '../http/route-table';
import { checkName, parseId } from '../http/validation';
import { actorOf } from './actor';
import { alertRoutes } from './alert-routes';
import { auditRoutes } from './audit-routes';
import { jobsRoutes } from './jobs-routes';
import { scheduledRoutes } from './scheduled-routes';
import { createGroup, describeGroup, groupLag, listConsumers, listSubscriptions, requireGroup, resetOffsets, setPaused, subscribe, type ResetTarget } from './group-service';
import { addDbNode, addSpareQueues, listNodes, requireNode, describeNode } from './node-service';
import * as schemas from './schemas';
import { createTopic, describeTopic, expandTopic, requireTopic, setQueueFlagsOfTopic } from './topic-service';
import { listGroups } from '../../shared/metadata/groups';
import type { NewDbNode } from '../../shared/metadata/rows';
import { listTopics, type TopicPatch } from '../../shared/metadata/topics';
import type { SubscriptionPatch } from '../../shared/metadata/groups';
import { alterGroup, alterSubscription, alterTopic } from './alter-service';
import { deleteDbNode, deleteGroup, deleteTopic, unsubscribe } from './removal-service';
import { shrinkTopic, type ShrinkRequest } from './shrink-service';

interface CreateTopicBody { name: string; queues: number; retentionHours?: number; maxMessageBytes?: number; owner?: string; dbNode?: string }
interface GroupBody { name: string; mode?: 'cluster' | 'broadcast'; maxRetries?: number }
interface SubscribeBody { topic: string; start?: 'latest' | 'earliest'; tags?: string[]; maxRetries?: number; backoffMs?: number[]; maxLag?: number }

const ADMIN = '/api/v1/admin';

/** /api/v1/admin: db nodes, queues, topics, groups. Every change is audited by the services. */
export function adminRoutes(ctx: BrokerContext): ApiRoute[] {
  return [
    route<NewDbNode>({
      method: 'post',
      path: `${ADMIN}/db-nodes`,
      tag: 'db nodes',
      summary: 'Register a message DB node (probed before it is saved)',
      body: schemas.addDbNodeSchema,
      status: 201,
      example: { request: { name: 'node-b', host: '10.0.0.7', port: 3306, database: 'tablemq_msgs', user: 'tablemq', password: 'secret' } },
      handler: async (req, res, { body }) => {
        res.status(201).json(await addDbNode(ctx, body, actorOf(req)));
      },
    }),
    route({
      method: 'get',
      path: `${ADMIN}/db-nodes`,
      tag: 'db nodes',
      summary: 'List message DB nodes with their queue counts',
      handler: async (_req, res) => {
        res.json(await listNodes(ctx));
      },
    }),
    route({
      method: 'get',
      path: `${ADMIN}/db-nodes/:node`,
      tag: 'db nodes',
      summary: 'One message DB node',
      handler: async (req, res) => {
        res.json(describeNode(await requireNode(ctx, checkName('dbNode', req.params.node as string))));
      },
    }),
    route<{ count: number }>({
      method: 'post',
      path: `${ADMIN}/db-nodes/:node/queues`,
      tag: 'db nodes',
      summary: 'Create spare queue tables on a node (topics take them when created or expanded)',
      body: schemas.createQueuesSchema,
      status: 201,
      example: { request: { count: 8 } },
      handler: async (req, res, { body }) => {
        res.status(201).json(await addSpareQueues(ctx, checkName('dbNode', req.params.node as string), body.count, actorOf(req)));
      },
    }),

    route({
      method: 'delete',
      path: `${ADMIN}/db-nodes/:node`,
      tag: 'db nodes',
      summary: 'Remove a db node (refused with 409 while any queue of a topic, or a released queue not yet emptied, lives on it); its spare tables are dropped',
      example: { response: { deleted: 'node-b', spareQueuesRemoved: 2, tablesDropped: 2 } },
      handler: async (req, res) => {
        res.json(await deleteDbNode(ctx, checkName('dbNode', req.params.node as string), actorOf(req)));
      },
    }),

    route<CreateTopicBody>({
      method: 'post',
      path: `${ADMIN}/topics`,
      tag: 'topics',
      summary: 'Create a topic with a number of queues (tables)',
      body: schemas.createTopicSchema,
      status: 201,
      example: {
        request: { name: 'orders', queues: 4 },
        response: { id: 1, name: 'orders', kind: 'normal', retentionHours: 168, maxMessageBytes: 1048576, queues: [{ id: 1, table: 'q_1', dbNode: 'default', readable: true, writable: true }] },
      },
      handler: async (req, res, { body }) => {
        res.status(201).json(await createTopic(ctx, body, actorOf(req)));
      },
    }),
    route({
      method: 'get',
      path: `${ADMIN}/topics`,
      tag: 'topics',
      summary: 'List topics with their queues',
      handler: async (_req, res) => {
        const topics = await listTopics(ctx.db);
        res.json({ topics: await Promise.all(topics.map((t) => describeTopic(ctx, t))) });
      },
    }),
    route({
      method: 'get',
      path: `${ADMIN}/topics/:topic`,
      tag: 'topics',
      summary: 'One topic with its queues',
      handler: async (req, res) => {
        res.json(await describeTopic(ctx, await requireTopic(ctx, checkName('topic', req.params.topic as string))));
      },
    }),
    route<TopicPatch>({
      method: 'patch',
      path: `${ADMIN}/topics/:topic`,
      tag: 'topics',
      summary: "Change a topic's retention, largest message or owner (owner null clears it); every broker applies it within metadataRefreshMs",
      body: schemas.alterTopicSchema,
      example: { request: { retentionHours: 72, maxMessageBytes: 65536 } },
      handler: async (req, res, { body }) => {
        res.json(await alterTopic(ctx, checkName('topic', req.params.topic as string), body, actorOf(req)));
      },
    }),
    route<undefined, { force: boolean }>({
      method: 'delete',
      path: `${ADMIN}/topics/:topic`,
      tag: 'topics',
      summary: 'Delete a topic: 409 while a group subscribes unless force=true (then every group is unsubscribed); its queues are emptied back into the spare pool by portal-jobs',
      query: schemas.deleteTopicQuerySchema,
      example: { response: { deleted: 'orders', releasedQueues: [1, 2], scheduledDropped: 0, unsubscribedGroups: [], removedSideTopics: [] } },
      handler: async (req, res, { query }) => {
        res.json(await deleteTopic(ctx, checkName('topic', req.params.topic as string), query.force, actorOf(req)));
      },
    }),
    route<{ queues: number; dbNode?: string }>({
      method: 'post',
      path: `${ADMIN}/topics/:topic/expand`,
      tag: 'topics',
      summary: 'Add queues to a topic (groups rebalance onto them)',
      body: schemas.expandTopicSchema,
      example: { request: { queues: 2 } },
      handler: async (req, res, { body }) => {
        res.json(await expandTopic(ctx, checkName('topic', req.params.topic as string), body.queues, actorOf(req), body.dbNode));
      },
    }),
    route<ShrinkRequest>({
      method: 'post',
      path: `${ADMIN}/topics/:topic/shrink`,
      tag: 'topics',
      summary: 'Remove queues from a topic safely: they stop taking writes now and leave once every subscribed group has read them (see shrinking in GET)',
      body: schemas.shrinkTopicSchema,
      example: { request: { queues: 1 } },
      handler: async (req, res, { body }) => {
        res.json(await shrinkTopic(ctx, checkName('topic', req.params.topic as string), body, actorOf(req)));
      },
    }),
    route<{ readable?: boolean; writable?: boolean }>({
      method: 'patch',
      path: `${ADMIN}/topics/:topic/queues/:queueId`,
      tag: 'topics',
      summary: 'Mark one queue of a topic readable or writable (drain it, or stop writes to it)',
      body: schemas.queueFlagsSchema,
      example: { request: { writable: false } },
      handler: async (req, res, { body }) => {
        const topic = checkName('topic', req.params.topic as string);
        const queueId = parseId('queueId', req.params.queueId as string);
        res.json(await setQueueFlagsOfTopic(ctx, topic, queueId, body, actorOf(req)));
      },
    }),

    route<GroupBody>({
      method: 'post',
      path: `${ADMIN}/groups`,
      tag: 'groups',
      summary: 'Create a consumer group',
      body: schemas.createGroupSchema,
      status: 201,
      example: { request: { name: 'billing' } },
      handler: async (req, res, { body }) => {
        res.status(201).json(await createGroup(ctx, body, actorOf(req)));
      },
    }),
    route({
      method: 'get',
      path: `${ADMIN}/groups`,
      tag: 'groups',
      summary: 'List consumer groups',
      handler: async (_req, res) => {
        res.json({ groups: (await listGroups(ctx.db)).map(describeGroup) });
      },
    }),
    route({
      method: 'get',
      path: `${ADMIN}/groups/:group`,
      tag: 'groups',
      summary: 'One consumer group with its subscriptions',
      handler: async (req, res) => {
        const name = checkName('group', req.params.group as string);
        res.json({ ...describeGroup(await requireGroup(ctx, name)), subscriptions: await listSubscriptions(ctx, name) });
      },
    }),
    route<{ maxRetries: number }>({
      method: 'patch',
      path: `${ADMIN}/groups/:group`,
      tag: 'groups',
      summary: "Change a group's maxRetries (for its subscriptions that set none)",
      body: schemas.alterGroupSchema,
      example: { request: { maxRetries: 5 } },
      handler: async (req, res, { body }) => {
        res.json(await alterGroup(ctx, checkName('group', req.params.group as string), body, actorOf(req)));
      },
    }),
    route({
      method: 'delete',
      path: `${ADMIN}/groups/:group`,
      tag: 'groups',
      summary: 'Delete a group with its consumers, offsets, failure records, subscriptions and their retry and dead topics',
      example: { response: { deleted: 'billing', unsubscribed: ['orders'], removedSideTopics: [] } },
      handler: async (req, res) => {
        res.json(await deleteGroup(ctx, checkName('group', req.params.group as string), actorOf(req)));
      },
    }),
    route<SubscriptionPatch>({
      method: 'patch',
      path: `${ADMIN}/groups/:group/subscriptions/:topic`,
      tag: 'groups',
      summary: "Change a subscription's tags, maxRetries, backoffMs or maxLag (null resets one)",
      body: schemas.alterSubscriptionSchema,
      example: { request: { tags: ['created'], maxLag: 10000 } },
      handler: async (req, res, { body }) => {
        const group = checkName('group', req.params.group as string);
        res.json(await alterSubscription(ctx, group, checkName('topic', req.params.topic as string), body, actorOf(req)));
      },
    }),
    route({
      method: 'delete',
      path: `${ADMIN}/groups/:group/subscriptions/:topic`,
      tag: 'groups',
      summary: 'Unsubscribe a group from a topic; its offsets of it and its retry and dead topics of it go',
      example: { response: { group: 'billing', topic: 'orders', removedSideTopics: [] } },
      handler: async (req, res) => {
        res.json(await unsubscribe(ctx, checkName('group', req.params.group as string), checkName('topic', req.params.topic as string), actorOf(req)));
      },
    }),
    route<SubscribeBody>({
      method: 'post',
      path: `${ADMIN}/groups/:group/subscriptions`,
      tag: 'groups',
      summary: 'Subscribe a group to a topic (creates its retry and dead topics)',
      body: schemas.subscribeSchema,
      status: 201,
      example: { request: { topic: 'orders', start: 'earliest' } },
      handler: async (req, res, { body }) => {
        res.status(201).json(await subscribe(ctx, checkName('group', req.params.group as string), body, actorOf(req)));
      },
    }),
    route({
      method: 'get',
      path: `${ADMIN}/groups/:group/lag`,
      tag: 'groups',
      summary: 'Lag of a group per queue: MAX(id) minus the committed offset',
      example: { response: { group: 'billing', generation: 3, totalLag: 12, queues: [{ topic: 'orders', queueId: 1, maxId: 40, committed: 28, lag: 12, consumerId: 5 }] } },
      handler: async (req, res) => {
        res.json(await groupLag(ctx, checkName('group', req.params.group as string)));
      },
    }),
    route({
      method: 'get',
      path: `${ADMIN}/groups/:group/consumers`,
      tag: 'groups',
      summary: 'The consumers of a group and the queues each owns',
      handler: async (req, res) => {
        res.json(await listConsumers(ctx, checkName('group', req.params.group as string)));
      },
    }),
    route({
      method: 'post',
      path: `${ADMIN}/groups/:group/pause`,
      tag: 'groups',
      summary: 'Pause a group: pulls answer no messages until it is resumed',
      handler: async (req, res) => {
        res.json(await setPaused(ctx, checkName('group', req.params.group as string), true, actorOf(req)));
      },
    }),
    route({
      method: 'post',
      path: `${ADMIN}/groups/:group/resume`,
      tag: 'groups',
      summary: 'Resume a paused group',
      handler: async (req, res) => {
        res.json(await setPaused(ctx, checkName('group', req.params.group as string), false, actorOf(req)));
      },
    }),
    route<{ topic: string; to: ResetTarget }>({
      method: 'post',
      path: `${ADMIN}/groups/:group/offsets/reset`,
      tag: 'groups',
      summary: "Move a group's offsets on one topic (earliest, latest, a time, or an id)",
      body: schemas.resetOffsetsSchema,
      example: { request: { topic: 'orders', to: { timestamp: '2026-11-23T00:00:00Z' } } },
      handler: async (req, res, { body }) => {
        res.json(await resetOffsets(ctx, checkName('group', req.params.group as string), body.topic, body.to, actorOf(req)));
      },
    }),

    ...jobsRoutes(ctx),
    ...auditRoutes(ctx),
    ...alertRoutes(ctx),
    ...scheduledRoutes(ctx),
  ];
}
