import { writeAudit } from '../../shared/metadata/audit';
import { findSubscription, updateGroupMaxRetries, updateSubscription, type SubscriptionPatch } from '../../shared/metadata/groups';
import { updateTopic, type TopicPatch } from '../../shared/metadata/topics';
import { BrokerError } from '../../shared/errors';
import type { BrokerContext } from '../context';
import { describeGroup, describeSubscription, requireGroup } from './group-service';
import { describeTopic, requireTopic } from './topic-service';

/*
 * PATCH of topics, groups and subscriptions. The change is written with its audit entry in one
 * transaction; this broker reloads its catalog at once, the others at their next refresh
 * (metadataRefreshMs). Settings read at the time of use (retries, backoff) apply at once everywhere.
 */

export async function alterTopic(ctx: BrokerContext, name: string, patch: TopicPatch, actor: string) {
  const topic = await requireTopic(ctx, name);
  await ctx.db.transaction(async (trx) => {
    await updateTopic(trx, topic.id, patch);
    const before = { retentionHours: topic.retentionHours, maxMessageBytes: topic.maxMessageBytes, owner: topic.owner };
    await writeAudit(trx, { actor, action: 'topic.alter', target: `topic:${name}`, detail: { before, change: patch } });
  });
  await ctx.catalog.reload();
  return describeTopic(ctx, await requireTopic(ctx, name));
}

export async function alterGroup(ctx: BrokerContext, name: string, patch: { maxRetries: number }, actor: string) {
  const group = await requireGroup(ctx, name);
  await ctx.db.transaction(async (trx) => {
    await updateGroupMaxRetries(trx, group.id, patch.maxRetries);
    await writeAudit(trx, { actor, action: 'group.alter', target: `group:${name}`, detail: { before: { maxRetries: group.maxRetries }, change: patch } });
  });
  await ctx.catalog.reload();
  return describeGroup(await requireGroup(ctx, name));
}

export async function alterSubscription(ctx: BrokerContext, groupName: string, topicName: string, patch: SubscriptionPatch, actor: string) {
  const group = await requireGroup(ctx, groupName);
  const topic = await requireTopic(ctx, topicName);
  const sub = await findSubscription(ctx.db, group.id, topic.id);
  if (!sub) throw new BrokerError('SUBSCRIPTION_NOT_FOUND', `group ${groupName} does not subscribe to ${topicName}`, { group: groupName, topic: topicName });
  await ctx.db.transaction(async (trx) => {
    await updateSubscription(trx, sub.id, patch);
    const before = { tags: sub.tags, maxRetries: sub.maxRetries, backoffMs: sub.backoffMs, maxLag: sub.maxLag };
    await writeAudit(trx, { actor, action: 'subscription.alter', target: `group:${groupName}`, detail: { topic: topicName, before, change: patch } });
  });
  await ctx.catalog.reload();
  const updated = await findSubscription(ctx.db, group.id, topic.id);
  if (!updated) throw new BrokerError('SUBSCRIPTION_NOT_FOUND', `group ${groupName} no longer subscribes to ${topicName}`, { group: groupName, topic: topicName });
  return describeSubscription(ctx, group, updated);
}
