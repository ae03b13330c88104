import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { startTestBroker, type TestBroker } from './helpers/broker';
import { freshDatabase } from './helpers/db';
import { startTestJobs } from './helpers/jobs';

let t: TestBroker;
before(async () => {
  t = await startTestBroker('alerts');
});
after(async () => {
  await t?.close();
});

interface Rule { alert: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }

describe('ops/prometheus-alerts.yml', () => {
  test('parses as Prometheus rule groups, and every series it uses is one a broker or portal-jobs exposes', async () => {
    const doc = parse(readFileSync('ops/prometheus-alerts.yml', 'utf8')) as { groups: { name: string; rules: Rule[] }[] };
    const rules = doc.groups.flatMap((g) => g.rules);
    assert.ok(rules.some((r) => r.expr.includes('tablemq_group_lag_messages')), 'a lag alert');
    assert.ok(rules.some((r) => r.expr.includes('tablemq_scheduled_')), 'a backlog alert');

    const database = await freshDatabase('alerts_jobs');
    const jobs = await startTestJobs(database.url);
    let exposed: string;
    try {
      exposed = (await t.broker.ctx.metrics.text()) + (await jobs.ctx.metrics.registry.metrics());
    } finally {
      await jobs.stop();
      await database.drop();
    }
    const families = new Set([...exposed.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name, type]) => (type === 'histogram' ? [`${name}_bucket`, `${name}_count`, `${name}_sum`] : [name!])));
    for (const rule of rules) {
      assert.match(rule.alert, /^Tablemq[A-Za-z]+$/);
      assert.ok(rule.annotations?.summary, `${rule.alert} has a summary`);
      for (const [series] of rule.expr.matchAll(/tablemq_[a-z_]+/g)) assert.ok(families.has(series), `${rule.alert} uses ${series}, which nothing exposes`);
    }
  });
});
