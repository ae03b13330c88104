import PgBoss from 'pg-boss';
import pg from 'pg';
async function main() {
  const admin = new pg.Client({host:'127.0.0.1', user:'postgres', database:'postgres'}); await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS tmp_pgboss_probe WITH (FORCE)'); await admin.query('CREATE DATABASE tmp_pgboss_probe');
  const boss = new PgBoss({host:'127.0.0.1', user:'postgres', database:'tmp_pgboss_probe', supervise:false, schedule:false});
  await boss.start(); await boss.createQueue('bench');
  const data = {pad: 'x'.repeat(1014)};
  const jobs = Array.from({length:100}, () => ({name:'bench', data}));
  for (let i=0;i<800;i++) await boss.insert(jobs);
  const c = new pg.Client({host:'127.0.0.1', user:'postgres', database:'tmp_pgboss_probe'}); await c.connect();
  const q = `EXPLAIN ANALYZE SELECT id FROM pgboss.job WHERE name='bench' AND state < 'active' AND start_after < now() ORDER BY priority desc, created_on, id LIMIT 100 FOR UPDATE SKIP LOCKED`;
  const t = async (label: string) => { let t0=Date.now(); let n=0; while(Date.now()-t0<2000){ const j = await boss.fetch('bench',{batchSize:100}); await boss.complete('bench', j.map(x=>x.id)); n+=j.length;} console.log(label, n/2, 'msg/s'); };
  console.log((await c.query(q)).rows.map(r=>r['QUERY PLAN']).join('\n'));
  await t('no analyze');
  await c.query('VACUUM ANALYZE pgboss.job');
  console.log((await c.query(q)).rows.map(r=>r['QUERY PLAN']).join('\n'));
  await t('after vacuum analyze');
  await c.end(); await boss.stop({graceful:false}); await admin.query('DROP DATABASE tmp_pgboss_probe WITH (FORCE)'); await admin.end();
}
main();
