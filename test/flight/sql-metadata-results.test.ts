/**
 * The Flight SQL metadata result sets as pyarrow reads them: the exact schemas FlightSql.proto
 * gives (names, types, nullability), the rows, and GetTables' `table_schema` column holding IPC
 * schemas that pyarrow deserialises back to each table's schema.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Field, Float64, Int64, RecordBatchStreamWriter, Schema, Utf8, type Table } from 'apache-arrow';
import { catalogsTable, dbSchemasTable, FOREIGN_KEYS_SCHEMA, PRIMARY_KEYS_SCHEMA, tablesTable, tableTypesTable } from '../../src/flight/sql/metadata-results.js';
import { Table as ArrowTable } from 'apache-arrow';
import { PYTHON } from '../helpers/python.js';
import { tempDir } from '../helpers/server.js';

const READ = `
import json, sys
import pyarrow as pa, pyarrow.ipc as ipc
out = []
for path in sys.argv[1:]:
    t = ipc.open_stream(open(path, 'rb').read()).read_all()
    rows = t.to_pylist()
    for r in rows:
        if 'table_schema' in r:
            s = ipc.read_schema(pa.py_buffer(r['table_schema']))
            r['table_schema'] = [[f.name, str(f.type), f.nullable] for f in s]
    out.append({'schema': [[f.name, str(f.type), f.nullable] for f in t.schema], 'rows': rows})
print(json.dumps(out))
`;

function readWithPyarrow(tables: Table[]): { schema: [string, string, boolean][]; rows: Record<string, unknown>[] }[] {
  const dir = tempDir('fg-sqlmeta-');
  const files = tables.map((t, i) => {
    const file = join(dir, `${i}.arrows`);
    writeFileSync(file, RecordBatchStreamWriter.writeAll(t).toUint8Array(true));
    return file;
  });
  return JSON.parse(execFileSync(PYTHON, ['-c', READ, ...files]).toString()) as ReturnType<typeof readWithPyarrow>;
}

test('catalogs, schemas, table types and tables (with IPC schemas) read back in the protocol schemas', () => {
  const numbers = new Schema([new Field('id', new Int64(), false), new Field('value', new Float64(), true), new Field('name', new Utf8(), true)]);
  const [catalogs, schemas, types, tables, bare] = readWithPyarrow([
    catalogsTable(['flightgate']),
    dbSchemasTable([{ catalog: 'flightgate', dbSchema: 'main' }, { dbSchema: 'uploads' }]),
    tableTypesTable(['TABLE']),
    tablesTable([{ catalog: 'flightgate', dbSchema: 'main', table: 'numbers', type: 'TABLE', schema: numbers }], true),
    tablesTable([], false),
  ]);
  assert.deepEqual(catalogs, { schema: [['catalog_name', 'string', false]], rows: [{ catalog_name: 'flightgate' }] });
  assert.deepEqual(schemas, {
    schema: [['catalog_name', 'string', true], ['db_schema_name', 'string', false]],
    rows: [{ catalog_name: 'flightgate', db_schema_name: 'main' }, { catalog_name: null, db_schema_name: 'uploads' }],
  });
  assert.deepEqual(types, { schema: [['table_type', 'string', false]], rows: [{ table_type: 'TABLE' }] });
  assert.deepEqual(tables, {
    schema: [['catalog_name', 'string', true], ['db_schema_name', 'string', true], ['table_name', 'string', false], ['table_type', 'string', false], ['table_schema', 'binary', false]],
    rows: [{ catalog_name: 'flightgate', db_schema_name: 'main', table_name: 'numbers', table_type: 'TABLE', table_schema: [['id', 'int64', false], ['value', 'double', true], ['name', 'string', true]] }],
  });
  assert.deepEqual(bare, { schema: [['catalog_name', 'string', true], ['db_schema_name', 'string', true], ['table_name', 'string', false], ['table_type', 'string', false]], rows: [] });
});

test('the key result sets have the protocol columns, empty', () => {
  const [primary, foreign] = readWithPyarrow([new ArrowTable(PRIMARY_KEYS_SCHEMA), new ArrowTable(FOREIGN_KEYS_SCHEMA)]);
  assert.deepEqual(primary!.schema.map((f) => f.join(' ')), [
    'catalog_name string true', 'db_schema_name string true', 'table_name string false', 'column_name string false', 'key_name string true', 'key_sequence int32 false',
  ]);
  assert.deepEqual(foreign!.schema.map((f) => `${f[0]} ${f[1]} ${f[2]}`).slice(-3), ['pk_key_name string true', 'update_rule uint8 false', 'delete_rule uint8 false']);
  assert.equal(foreign!.schema.length, 13);
  assert.deepEqual([primary!.rows, foreign!.rows], [[], []]);
});
