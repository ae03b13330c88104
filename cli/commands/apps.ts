import type { Command } from 'commander';
import { seg } from '../api';
import { action } from '../context';
import { UsageError } from '../exit-codes';
import { fields, print, table } from '../output';

interface Grant { permission: 'admin' | 'produce' | 'consume'; topic?: string; group?: string }
interface App { name: string; createdAt: string; tokens: { id: number; createdAt: string }[]; grants: Grant[] }

const grantText = (g: Grant) => (g.permission === 'admin' ? 'admin' : g.permission === 'produce' ? `produce:${g.topic}` : `consume:${g.group}`);

/** "admin", "produce:<topic>" or "consume:<group>" (names or wildcards). */
function parseGrant(text: string): Grant {
  if (text === 'admin') return { permission: 'admin' };
  const m = /^(produce|consume):(.+)$/.exec(text);
  if (!m) throw new UsageError(`a grant is admin, produce:<topic> or consume:<group>, not ${JSON.stringify(text)}`);
  return m[1] === 'produce' ? { permission: 'produce', topic: m[2]! } : { permission: 'consume', group: m[2]! };
}

const appDetail = (a: App) =>
  fields([
    ['name', a.name],
    ['createdAt', a.createdAt],
    ['tokens', a.tokens.map((t) => t.id)],
    ['grants', a.grants.map(grantText)],
  ]);

export function appsCommand(program: Command): void {
  const apps = program.command('apps').description('apps (API clients): their tokens and grants');
  const path = (name: string, rest = '') => `/api/v1/admin/apps/${seg(name)}${rest}`;

  apps
    .command('list')
    .description('list apps with their token ids and grants')
    .action(
      action(async ({ api, output }) => {
        const { apps: list } = await api.get<{ apps: App[] }>('/api/v1/admin/apps');
        print(output, list, (l) =>
          table(l, [
            ['NAME', (a) => a.name],
            ['TOKENS', (a) => a.tokens.map((t) => t.id)],
            ['GRANTS', (a) => a.grants.map(grantText)],
          ]),
        );
      }),
    );

  apps
    .command('get <app>')
    .description('one app')
    .action(
      action(async ({ api, output }, [name]) => {
        print(output, await api.get<App>(path(name!)), appDetail);
      }),
    );

  apps
    .command('create <app>')
    .description('create an app; its token is printed once, here only')
    .option('-g, --grant <grant...>', 'admin, produce:<topic> or consume:<group> (wildcards: *, prefix.*)')
    .action(
      action<{ grant?: string[] }>(async ({ api, output }, [name], o) => {
        const created = await api.post<{ name: string; token: string; tokenId: number; grants: Grant[] }>('/api/v1/admin/apps', { name, grants: o.grant?.map(parseGrant) });
        print(output, created, (c) => `created app ${c.name}; its token (shown once):\n${c.token}\n`);
      }),
    );

  apps
    .command('delete <app>')
    .description('delete an app: its tokens stop working')
    .action(
      action(async ({ api, output }, [name]) => {
        print(output, await api.delete(path(name!)), () => `deleted app ${name}\n`);
      }),
    );

  apps
    .command('add-token <app>')
    .description('add a token (rotation: both work until the old one is revoked); printed once')
    .action(
      action(async ({ api, output }, [name]) => {
        print(output, await api.post<{ token: string; tokenId: number }>(path(name!, '/tokens')), (t) => `token ${t.tokenId} (shown once):\n${t.token}\n`);
      }),
    );

  apps
    .command('revoke-token <app> <tokenId>')
    .description('revoke one token of an app')
    .action(
      action(async ({ api, output }, [name, tokenId]) => {
        print(output, await api.delete(path(name!, `/tokens/${seg(tokenId!)}`)), () => `revoked token ${tokenId} of ${name}\n`);
      }),
    );

  const grants = program.command('grants').description("grant or revoke an app's permissions");
  for (const [verb, what] of [
    ['add', 'grant a permission'],
    ['revoke', 'revoke a permission'],
  ] as const) {
    grants
      .command(`${verb} <app> <grant>`)
      .description(`${what}: admin, produce:<topic> or consume:<group>`)
      .action(
        action(async ({ api, output }, [name, grant]) => {
          const body = parseGrant(grant!);
          const answer = verb === 'add' ? await api.post(path(name!, '/grants'), body) : await api.delete(path(name!, '/grants'), body);
          print(output, answer, () => `${verb === 'add' ? 'granted' : 'revoked'} ${grantText(body)} ${verb === 'add' ? 'to' : 'from'} ${name}\n`);
        }),
      );
  }
}
