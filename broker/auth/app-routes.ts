import type { BrokerContext } from '../context';
import { route, type ApiRoute } from '../http/route-table';
import { checkName, parseId } from '../http/validation';
import { actorOf } from '../admin/actor';
import { addToken, createApp, deleteApp, getApp, grant, listApps, revokeGrant, revokeToken } from './app-service';
import { createAppSchema, grantSchema, type CreateAppBody, type GrantBody } from './schemas';

const APPS = '/api/v1/admin/apps';
const TAG = 'apps';

const appName = (raw: unknown) => checkName('app', String(raw));

/** /api/v1/admin/apps: apps, their tokens and grants (behind the admin check like all of /admin). */
export function appRoutes(ctx: BrokerContext): ApiRoute[] {
  return [
    route<CreateAppBody>({
      method: 'post',
      path: APPS,
      tag: TAG,
      summary: 'Create an app with a new token (shown in this answer only) and optional grants',
      body: createAppSchema,
      status: 201,
      example: {
        request: { name: 'billing-service', grants: [{ permission: 'produce', topic: 'orders' }, { permission: 'consume', group: 'billing' }] },
        response: { name: 'billing-service', token: 'tmq_…', tokenId: 2, grants: [{ permission: 'produce', topic: 'orders' }, { permission: 'consume', group: 'billing' }] },
      },
      handler: async (req, res, { body }) => {
        res.status(201).json(await createApp(ctx, body, actorOf(req)));
      },
    }),
    route({
      method: 'get',
      path: APPS,
      tag: TAG,
      summary: 'List apps with their token ids and grants (never the tokens)',
      handler: async (_req, res) => {
        res.json(await listApps(ctx));
      },
    }),
    route({
      method: 'get',
      path: `${APPS}/:app`,
      tag: TAG,
      summary: 'One app with its token ids and grants',
      handler: async (req, res) => {
        res.json(await getApp(ctx, appName(req.params.app)));
      },
    }),
    route({
      method: 'delete',
      path: `${APPS}/:app`,
      tag: TAG,
      summary: 'Delete an app: its tokens stop working (409 for the last app with admin and a token)',
      handler: async (req, res) => {
        res.json(await deleteApp(ctx, appName(req.params.app), actorOf(req)));
      },
    }),
    route({
      method: 'post',
      path: `${APPS}/:app/tokens`,
      tag: TAG,
      summary: "Add a token to an app (rotation: both work until the old one is revoked); shown in this answer only",
      status: 201,
      handler: async (req, res) => {
        res.status(201).json(await addToken(ctx, appName(req.params.app), actorOf(req)));
      },
    }),
    route({
      method: 'delete',
      path: `${APPS}/:app/tokens/:tokenId`,
      tag: TAG,
      summary: 'Revoke one token of an app',
      handler: async (req, res) => {
        res.json(await revokeToken(ctx, appName(req.params.app), parseId('tokenId', String(req.params.tokenId)), actorOf(req)));
      },
    }),
    route<GrantBody>({
      method: 'post',
      path: `${APPS}/:app/grants`,
      tag: TAG,
      summary: 'Grant a permission: admin, produce on a topic, or consume in a group (names or wildcards `*`, `prefix.*`)',
      body: grantSchema,
      status: 201,
      example: { request: { permission: 'produce', topic: 'orders.*' }, response: { app: 'billing-service', grant: { permission: 'produce', topic: 'orders.*' }, added: true } },
      handler: async (req, res, { body }) => {
        res.status(201).json(await grant(ctx, appName(req.params.app), body, actorOf(req)));
      },
    }),
    route<GrantBody>({
      method: 'delete',
      path: `${APPS}/:app/grants`,
      tag: TAG,
      summary: 'Revoke a permission (the same body as the grant)',
      body: grantSchema,
      handler: async (req, res, { body }) => {
        res.json(await revokeGrant(ctx, appName(req.params.app), body, actorOf(req)));
      },
    }),
  ];
}
