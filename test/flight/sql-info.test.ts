/** CommandGetSqlInfo's result set, as pyarrow reads it: the protocol's dense union, member by member. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RecordBatchStreamWriter } from 'apache-arrow';
import { sqlInfoTable } from '../../src/flight/sql/sql-info.js';
import { PYTHON } from '../helpers/python.js';
import { tempDir } from '../helpers/server.js';

const READ = `
import json, sys
import pyarrow.ipc as ipc
t = ipc.open_stream(open(sys.argv[1], 'rb').read()).read_all()
value = t.schema.field('value').type
print(json.dumps({
  'schema': str(t.schema),
  'members': [[value.field(i).name, str(value.field(i).type), value.type_codes[i]] for i in range(value.num_fields)],
  'rows': [[r['info_name'], r['value']] for r in t.to_pylist()],
}))
`;

test('each kind of value reads back as its member of the dense union, in the order given', () => {
  const table = sqlInfoTable([
    [0, { kind: 'string', value: 'flightgate' }],
    [3, { kind: 'bool', value: true }],
    [100, { kind: 'bigint', value: 3_600_000n }],
    [504, { kind: 'string', value: '"' }],
    [522, { kind: 'bitmask', value: 3 }],
    [508, { kind: 'stringList', value: ['SELECT', 'FROM'] }],
    [4, { kind: 'bool', value: false }],
  ]);
  const file = join(tempDir('fg-sqlinfo-'), 'info.arrows');
  writeFileSync(file, RecordBatchStreamWriter.writeAll(table).toUint8Array(true));
  const read = JSON.parse(execFileSync(PYTHON, ['-c', READ, file]).toString()) as { schema: string; members: [string, string, number][]; rows: unknown[][] };
  assert.deepEqual(read.members, [
    ['string_value', 'string', 0],
    ['bool_value', 'bool', 1],
    ['bigint_value', 'int64', 2],
    ['int32_bitmask', 'int32', 3],
    ['string_list', 'list<item: string>', 4],
    ['int32_to_int32_list_map', 'map<int32, list<item: int32>>', 5],
  ]);
  assert.match(read.schema, /^info_name: uint32 not null\nvalue: dense_union</);
  assert.deepEqual(read.rows, [[0, 'flightgate'], [3, true], [100, 3_600_000], [504, '"'], [522, 3], [508, ['SELECT', 'FROM']], [4, false]]);
});
