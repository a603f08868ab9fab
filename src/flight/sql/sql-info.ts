/**
 * CommandGetSqlInfo's result: one row per requested item, `info_name: uint32 not null` and
 * `value`, a dense union whose members FlightSql.proto fixes in this order (clients pick the
 * member by its type id): string_value, bool_value, bigint_value, int32_bitmask, string_list,
 * int32_to_int32_list_map.
 */
import {
  Bool,
  DenseUnion,
  Field,
  Int32,
  Int64,
  List,
  makeData,
  Map_,
  RecordBatch,
  Schema,
  Struct,
  Table,
  Uint32,
  Utf8,
  vectorFromArray,
  type Data,
  type DataType,
} from 'apache-arrow';

export type SqlInfoValue =
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'bigint'; readonly value: bigint }
  | { readonly kind: 'bitmask'; readonly value: number }
  | { readonly kind: 'stringList'; readonly value: readonly string[] };

const MEMBER = { string: 0, bool: 1, bigint: 2, bitmask: 3, stringList: 4 } as const;

const stringListType = new List(new Field('item', new Utf8(), true));
const int32ListMapType = new Map_<Int32, List<Int32>>(
  new Field('entries', new Struct<{ key: Int32; value: List<Int32> }>([new Field('key', new Int32(), false), new Field('value', new List(new Field('item', new Int32(), true)), true)]), false),
);

const VALUE_TYPE = new DenseUnion(
  [0, 1, 2, 3, 4, 5],
  [
    new Field('string_value', new Utf8(), true),
    new Field('bool_value', new Bool(), true),
    new Field('bigint_value', new Int64(), true),
    new Field('int32_bitmask', new Int32(), true),
    new Field('string_list', stringListType, true),
    new Field('int32_to_int32_list_map', int32ListMapType, true),
  ],
);

export const SQL_INFO_SCHEMA = new Schema([new Field('info_name', new Uint32(), false), new Field('value', VALUE_TYPE, false)]);

function column<T extends DataType>(values: unknown[], type: T): Data<T> {
  const data = vectorFromArray(values as never[], type).data;
  if (data.length !== 1) throw new Error('a SqlInfo column was built in more than one chunk');
  return data[0] as Data<T>;
}

/** The rows for `items`, in the order given. */
export function sqlInfoTable(items: readonly (readonly [number, SqlInfoValue])[]): Table {
  const members: unknown[][] = [[], [], [], [], [], []];
  const typeIds = new Int8Array(items.length);
  const offsets = new Int32Array(items.length);
  items.forEach(([, v], i) => {
    const member = MEMBER[v.kind];
    typeIds[i] = member;
    offsets[i] = members[member]!.length;
    members[member]!.push(v.kind === 'stringList' ? [...v.value] : v.value);
  });
  const children = [
    column(members[0]!, new Utf8()),
    column(members[1]!, new Bool()),
    column(members[2]!, new Int64()),
    column(members[3]!, new Int32()),
    column(members[4]!, stringListType),
    column([], int32ListMapType),
  ];
  const value = makeData({ type: VALUE_TYPE, length: items.length, nullCount: 0, typeIds, valueOffsets: offsets, children });
  const names = column(items.map(([id]) => id), new Uint32());
  const batch = new RecordBatch(SQL_INFO_SCHEMA, makeData({ type: new Struct(SQL_INFO_SCHEMA.fields), length: items.length, nullCount: 0, children: [names, value] }));
  return new Table([batch]);
}
