import { arrowSource } from './src/catalog/sources/arrow-ipc.ts';
import { SqlEngine, DEFAULT_SQL_SETTINGS } from './src/sql/engine.ts';
const ds = await arrowSource.open('numbers', '/tmp/fgd/numbers.arrows');
const engine = new SqlEngine({ ...DEFAULT_SQL_SETTINGS, resultBatchRows: Number(process.env.ROWS ?? 65536) }, console.warn);
for (const sql of ['select count(*) from numbers', "select count(*) from numbers where name like '%9'", 'select id, value from numbers', 'select name from numbers', 'select * from numbers']) {
  for (let i = 0; i < 2; i++) {
    const t0 = performance.now();
    const q = await engine.query({ owner: 'o', tables: [{ name: 'numbers', dataset: ds }], sql });
    const t1 = performance.now();
    let n = 0, bytes = 0;
    for await (const m of q.messages()) { n++; bytes += m.body.length; }
    if (i) console.log(`${(performance.now() - t0).toFixed(0)} ms (execute ${(t1 - t0).toFixed(0)}) ${n} msgs ${(bytes / 1e6).toFixed(0)} MB  ${sql}`);
  }
}
await engine.close();
