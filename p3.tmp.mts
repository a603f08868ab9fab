import { arrowSource } from './src/catalog/sources/arrow-ipc.ts';
import { SqlEngine, DEFAULT_SQL_SETTINGS } from './src/sql/engine.ts';
const ds = await arrowSource.open('numbers', '/tmp/fgd/numbers.arrows');
const engine = new SqlEngine({ ...DEFAULT_SQL_SETTINGS }, console.warn);
for (let i = 0; i < 8; i++) {
  const q = await engine.query({ owner: 'o', tables: [{ name: 'numbers', dataset: ds }], sql: process.env.SQL ?? 'select * from numbers' });
  for await (const m of q.messages()) void m;
}
await engine.close();
