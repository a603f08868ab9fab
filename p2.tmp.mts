import { arrowSource } from './src/catalog/sources/arrow-ipc.ts';
import { SqlEngine, DEFAULT_SQL_SETTINGS } from './src/sql/engine.ts';
const ds = await arrowSource.open('numbers', '/tmp/fgd/numbers.arrows');
const engine = new SqlEngine({ ...DEFAULT_SQL_SETTINGS, resultBatchRows: Number(process.env.ROWS ?? 65536), threads: Number(process.env.THREADS ?? 2) }, console.warn);
for (const sql of ['select * from numbers', 'select id, value from numbers', 'select name from numbers']) {
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const q = await engine.query({ owner: 'o', tables: [{ name: 'numbers', dataset: ds }], sql });
    let n = 0;
    const it = q.messages()[Symbol.asyncIterator]();
    let wait = 0;
    for (;;) { const w0 = performance.now(); const r = await it.next(); wait += performance.now() - w0; if (r.done) break; n++; r.value.release?.(); }
    if (i) console.log(`${(performance.now() - t0).toFixed(0)} ms, waiting on engine ${wait.toFixed(0)} ms, ${n} msgs  ${sql}`);
  }
}
await engine.close();
