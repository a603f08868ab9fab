import { arrowSource } from './src/catalog/sources/arrow-ipc.ts';
import { SqlEngine, DEFAULT_SQL_SETTINGS } from './src/sql/engine.ts';
const ds = await arrowSource.open('numbers', '/tmp/fgd/numbers.arrows');
const engine = new SqlEngine(DEFAULT_SQL_SETTINGS, console.warn);
for (let i = 0; i < 6; i++) {
  const t0 = performance.now();
  const q = await engine.query({ owner: 'o', tables: [{ name: 'numbers', dataset: ds }], sql: 'select count(*) from numbers' });
  for await (const m of q.messages()) void m;
  console.log((performance.now() - t0).toFixed(0));
}
let n = 0; const t0 = performance.now();
for await (const m of ds.messages()) n += m.body.length;
console.log('read only', (performance.now() - t0).toFixed(0), n);
await engine.close();
