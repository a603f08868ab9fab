/**
 * The route for Arrow results out of DuckDB, measured both ways in one run, alternating, 5 rounds:
 *  - ours: the binding in native/ (DuckDB's C API; vectors written into Arrow IPC bodies in C,
 *    queries on a thread of their own);
 *  - @duckdb/node-api (the official Node binding, no Arrow API bound): the result streamed chunk
 *    by chunk into JavaScript values, which Arrow JS builds into record batches and IPC.
 * The same query in both (a generated 10M-row table: id int64, value float64, name utf8, and the
 * 10 % filter of it), on the same DuckDB version with 2 threads. Prints one JSON line per figure.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { Float64, Int64, RecordBatchStreamWriter, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { DEFAULT_SQL_SETTINGS, SqlEngine } from '../src/sql/engine.js';

const ROWS = Number(process.env.BENCH_ROUTE_ROWS ?? 10_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const GENERATED = `SELECT range AS id, range * 0.5 AS value, 'n' || lpad(range::VARCHAR, 9, '0') AS name FROM range(${ROWS})`;
const QUERIES = { scan: GENERATED, filter10: `SELECT * FROM (${GENERATED}) WHERE id % 10 = 0` };

const engine = new SqlEngine({ ...DEFAULT_SQL_SETTINGS, threads: 2 });
const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
const connection = await instance.connect();

async function ours(sql: string): Promise<number> {
  let bytes = 0;
  const q = await engine.query({ owner: 'bench', tables: [], sql });
  for await (const m of q.messages()) {
    bytes += m.header.length + m.body.length;
    m.release?.();
  }
  return bytes;
}

async function nodeApi(sql: string): Promise<number> {
  let bytes = 0;
  const result = await connection.stream(sql);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const [id, value, name] = chunk.getColumns() as [bigint[], number[], string[]];
    const table = new Table({ id: vectorFromArray(id, new Int64()), value: vectorFromArray(value, new Float64()), name: vectorFromArray(name, new Utf8()) });
    bytes += RecordBatchStreamWriter.writeAll(table).toUint8Array(true).length;
  }
  return bytes;
}

const routes = { ours, 'node-api': nodeApi } as const;
const seconds: Record<string, number[]> = {};
for (const kind of Object.keys(QUERIES)) for (const route of Object.keys(routes)) seconds[`${kind}:${route}`] = [];
for (const sql of Object.values(QUERIES)) for (const run of Object.values(routes)) await run(sql); // warm-up
for (let round = 0; round < RUNS; round++) {
  for (const [kind, sql] of Object.entries(QUERIES)) {
    const order = round % 2 ? (['node-api', 'ours'] as const) : (['ours', 'node-api'] as const);
    for (const route of order) {
      const t0 = performance.now();
      const bytes = await routes[route](sql);
      const s = (performance.now() - t0) / 1000;
      seconds[`${kind}:${route}`]!.push(s);
      console.log(JSON.stringify({ bench: 'sql_route', query: kind, route, round, seconds: Number(s.toFixed(3)), mb: Number((bytes / 1e6).toFixed(1)) }));
    }
  }
}
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
for (const kind of Object.keys(QUERIES)) {
  const a = seconds[`${kind}:ours`]!;
  const b = seconds[`${kind}:node-api`]!;
  const ratios = a.map((x, i) => b[i]! / x);
  console.log(JSON.stringify({
    bench: 'sql_route', summary: true, query: kind, rows: ROWS, ours_seconds: Number(median(a).toFixed(3)), node_api_seconds: Number(median(b).toFixed(3)),
    node_api_over_ours: Number((median(b) / median(a)).toFixed(2)), per_round_min: Number(Math.min(...ratios).toFixed(2)), per_round_max: Number(Math.max(...ratios).toFixed(2)),
  }));
}
connection.closeSync();
await engine.close();
