/** The TypeScript FlightSqlClient against a secured server with the demo data: what a Node application does with Flight SQL. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { tableFromArrays } from 'apache-arrow';
import { FlightClient } from '../../src/flight/client/flight-client.js';
import { FlightSqlClient, PreparedStatement } from '../../src/flight/client/flight-sql-client.js';
import { CancelStatus } from '../../src/flight/proto/messages.js';
import { descriptors } from '../../src/flight/client/descriptors.js';
import { encodeAny, encodePreparedStatementHandle, encodeStatementQuery, encodeTicketStatementQuery } from '../../src/flight/sql/protocol.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { rejectsWith } from '../helpers/assertions.js';

let server: TestServer;
const clients: FlightClient[] = [];

async function signIn(user: string, password: string): Promise<FlightSqlClient> {
  const c = new FlightClient(server.uri);
  clients.push(c);
  await c.login(user, password);
  return new FlightSqlClient(c);
}

before(async () => {
  server = await startTestServer({ demo: true }, { secure: true });
});
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server.stop();
});


test('queries, metadata and session options, each caller seeing only their tables', async () => {
  const admin = await signIn('admin', 'admin123');
  const user1 = await signIn('user1', 'pass1');
  const tables = async (c: FlightSqlClient) => (await c.getTables()).getChild('table_name')!.toArray().sort();
  assert.deepEqual(await tables(admin), ['db1', 'db2', 'numbers']);
  assert.deepEqual(await tables(user1), ['db1']);
  const top = await admin.query('SELECT name, count(*) AS n FROM numbers GROUP BY name ORDER BY 2 DESC, 1 LIMIT 5');
  assert.equal(top.numRows, 5);
  assert.deepEqual(top.schema.fields.map((f) => f.name), ['name', 'n']);
  const schema = await admin.getQuerySchema('SELECT id, name FROM db1');
  assert.deepEqual(schema.fields.map((f) => f.name), ['id', 'name']);
  assert.deepEqual((await admin.getCatalogs()).getChild('catalog_name')!.toArray(), ['temp']);
  assert.deepEqual((await admin.getTableTypes()).getChild('table_type')!.toArray(), ['TABLE']);
  assert.equal((await admin.getPrimaryKeys('db1')).numRows, 0);
  const info = await admin.getSqlInfo([0, 504]);
  assert.equal(info.numRows, 2);
  assert.ok((await admin.getXdbcTypeInfo()).numRows > 5);
  const withSchemas = await admin.getTables({ tableNamePattern: 'db%', includeSchema: true });
  assert.equal(withSchemas.numRows, 2);
  assert.deepEqual([...(await admin.setSessionOptions({ catalog: 'temp' }))], []);
  assert.deepEqual([...(await admin.setSessionOptions({ catalog: 'nope' }))], [['catalog', 2]]);
  const opts = await admin.getSessionOptions();
  assert.deepEqual(opts.get('catalog'), { kind: 'string', value: 'temp' });
  await rejectsWith(user1.query('SELECT * FROM db2'), 'INVALID_ARGUMENT', /does not exist/);
  await rejectsWith(user1.query("SELECT * FROM read_csv('/etc/passwd')"), 'INVALID_ARGUMENT', /not available/);
  await rejectsWith(user1.query('DROP VIEW db1'), 'INVALID_ARGUMENT', /only queries/);
});

test('prepared statements with parameters, bound to the principal that prepared them', async () => {
  const admin = await signIn('admin', 'admin123');
  const stmt = await admin.prepare('SELECT id, name FROM numbers WHERE id BETWEEN $1 AND $2 ORDER BY id');
  assert.deepEqual(stmt.datasetSchema?.fields.map((f) => f.name), ['id', 'name']);
  assert.equal(stmt.parameterSchema?.fields.length, 2);
  await stmt.bind({ lo: [BigInt(10)], hi: [BigInt(14)] } as never);
  const rows = await stmt.query();
  assert.deepEqual(rows.getChild('id')!.toArray(), BigInt64Array.from([10n, 11n, 12n, 13n, 14n]));
  const other = await signIn('user1', 'pass1');
  // The handle in another principal's hands.
  const stolen = new PreparedStatement(other, stmt.handle, stmt.datasetSchema, stmt.parameterSchema);
  await rejectsWith(stolen.query(), 'PERMISSION_DENIED');
  await rejectsWith(stolen.close(), 'PERMISSION_DENIED');
  await stmt.close();
});

test('bulk ingest into a new dataset, appended to, then queried; refused without write', async () => {
  const admin = await signIn('admin', 'admin123');
  const data = tableFromArrays({ k: Int32Array.from([1, 2, 3]), v: Float64Array.from([0.5, 1.5, 2.5]) });
  assert.equal(await admin.ingest('ingested_ts', data, 'create'), 3);
  assert.equal(await admin.ingest('ingested_ts', data, 'append'), 3);
  const sum = await admin.query('SELECT count(*) AS n, sum(v) AS s FROM ingested_ts');
  assert.equal(Number(sum.getChild('n')!.get(0)), 6);
  assert.equal(sum.getChild('s')!.get(0), 9);
  await rejectsWith(admin.ingest('ingested_ts', data, 'create'), 'INVALID_ARGUMENT', /already exists/);
  const user1 = await signIn('user1', 'pass1');
  await rejectsWith(user1.ingest('ingested_ts', data, 'append'), 'PERMISSION_DENIED');
});

test('CancelFlightInfo stops a running query and its ticket is refused afterwards', async () => {
  const admin = await signIn('admin', 'admin123');
  const info = await admin.execute('SELECT count(*) FROM numbers a, numbers b WHERE a.value * b.value < -1');
  const running = admin.client.doGet(info.endpoints[0]!.ticket).readAll();
  running.catch(() => undefined);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await admin.cancel(info), CancelStatus.CANCELLED);
  await rejectsWith(running, 'CANCELLED');
  await rejectsWith(admin.client.doGet(info.endpoints[0]!.ticket).readAll(), 'CANCELLED');
});

test('malformed and forged Flight SQL messages are refused with clear statuses, and the server keeps serving', async () => {
  const admin = await signIn('admin', 'admin123');
  const c = admin.client;
  const any = (name: string, value: Uint8Array): Uint8Array => encodeAny(`type.googleapis.com/arrow.flight.protocol.sql.${name}`, value);
  await rejectsWith(c.getFlightInfo(descriptors.command(any('CommandStatementQuery', Buffer.from([0x0a, 0xff, 0xff])))), 'INVALID_ARGUMENT', /malformed/);
  await rejectsWith(c.getFlightInfo(descriptors.command(any('CommandFromTheFuture', new Uint8Array(0)))), 'UNIMPLEMENTED', /unknown Flight SQL message/);
  await rejectsWith(c.getFlightInfo(descriptors.command(any('CommandStatementUpdate', encodeStatementQuery({ query: 'DELETE FROM db1' })))), 'UNIMPLEMENTED', /read-only/);
  const forged = any('TicketStatementQuery', encodeTicketStatementQuery({ statementHandle: Buffer.from('fgh1.sqlq.eyJjIjp7InEiOiJTRUxFQ1QgMSJ9fQ.AAAA') }));
  await rejectsWith(c.doGet(forged).readAll(), 'INVALID_ARGUMENT', /not one this server issued/);
  const forgedPrepared = any('CommandPreparedStatementQuery', encodePreparedStatementHandle({ preparedStatementHandle: Buffer.from('x'.repeat(100)) }));
  await rejectsWith(c.getFlightInfo(descriptors.command(forgedPrepared)), 'INVALID_ARGUMENT', /not one this server issued/);
  await rejectsWith(c.doAction('CreatePreparedStatement', Buffer.from('not an any')), 'INVALID_ARGUMENT');
  await rejectsWith(c.doAction('SetSessionOptions', Buffer.from([0x0a, 0x05, 0x0a])), 'INVALID_ARGUMENT');
  // A metadata command is its own ticket; one the server does not know is not.
  await rejectsWith(c.doGet(any('CommandStatementQuery', encodeStatementQuery({ query: 'SELECT 1' }))).readAll(), 'INVALID_ARGUMENT', /not a ticket/);
  assert.equal((await admin.query('SELECT 42 AS answer')).getChild('answer')!.get(0), 42);
});
