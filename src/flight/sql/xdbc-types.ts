/**
 * CommandGetXdbcTypeInfo: the SQL types the engine (DuckDB) offers, described the way JDBC's
 * getTypeInfo and ODBC's SQLGetTypeInfo expect, in the schema FlightSql.proto gives, ordered by
 * data_type then type_name.
 */
import { Bool, Field, Int32, List, makeData, RecordBatch, Schema, Struct, Table, Utf8, vectorFromArray, type DataType } from 'apache-arrow';

const f = (name: string, type: DataType, nullable: boolean): Field => new Field(name, type, nullable);

export const XDBC_TYPE_INFO_SCHEMA = new Schema([
  f('type_name', new Utf8(), false),
  f('data_type', new Int32(), false),
  f('column_size', new Int32(), true),
  f('literal_prefix', new Utf8(), true),
  f('literal_suffix', new Utf8(), true),
  f('create_params', new List(new Field('item', new Utf8(), false)), true),
  f('nullable', new Int32(), false),
  f('case_sensitive', new Bool(), false),
  f('searchable', new Int32(), false),
  f('unsigned_attribute', new Bool(), true),
  f('fixed_prec_scale', new Bool(), false),
  f('auto_increment', new Bool(), true),
  f('local_type_name', new Utf8(), true),
  f('minimum_scale', new Int32(), true),
  f('maximum_scale', new Int32(), true),
  f('sql_data_type', new Int32(), false),
  f('datetime_subcode', new Int32(), true),
  f('num_prec_radix', new Int32(), true),
  f('interval_precision', new Int32(), true),
]);

interface XdbcType {
  name: string;
  dataType: number;
  columnSize: number | null;
  prefix: string | null;
  suffix: string | null;
  createParams: string[] | null;
  caseSensitive: boolean;
  searchable: number;
  unsigned: boolean | null;
  fixedPrecScale: boolean;
  minScale: number | null;
  maxScale: number | null;
  sqlDataType: number;
  subcode: number | null;
  radix: number | null;
}

// XdbcDataType codes (the JDBC/ODBC ones); searchable: 3 = FULL, 2 = BASIC.
const T = (t: Partial<XdbcType> & Pick<XdbcType, 'name' | 'dataType'>): XdbcType => ({
  columnSize: null, prefix: null, suffix: null, createParams: null, caseSensitive: false, searchable: 2, unsigned: null,
  fixedPrecScale: false, minScale: null, maxScale: null, sqlDataType: t.dataType, subcode: null, radix: null, ...t,
});

const TYPES: XdbcType[] = [
  T({ name: 'BLOB', dataType: -3, columnSize: 2147483647, prefix: "'", suffix: "'::BLOB" }),
  T({ name: 'BOOLEAN', dataType: -7, columnSize: 1 }),
  T({ name: 'TINYINT', dataType: -6, columnSize: 3, unsigned: false, radix: 10, fixedPrecScale: true, minScale: 0, maxScale: 0 }),
  T({ name: 'BIGINT', dataType: -5, columnSize: 19, unsigned: false, radix: 10, fixedPrecScale: true, minScale: 0, maxScale: 0 }),
  T({ name: 'DECIMAL', dataType: 3, columnSize: 38, createParams: ['precision', 'scale'], unsigned: false, radix: 10, minScale: 0, maxScale: 38 }),
  T({ name: 'INTEGER', dataType: 4, columnSize: 10, unsigned: false, radix: 10, fixedPrecScale: true, minScale: 0, maxScale: 0 }),
  T({ name: 'SMALLINT', dataType: 5, columnSize: 5, unsigned: false, radix: 10, fixedPrecScale: true, minScale: 0, maxScale: 0 }),
  T({ name: 'FLOAT', dataType: 7, columnSize: 24, unsigned: false, radix: 2 }),
  T({ name: 'DOUBLE', dataType: 8, columnSize: 53, unsigned: false, radix: 2 }),
  T({ name: 'INTERVAL', dataType: 10, sqlDataType: 10, subcode: 110, prefix: "INTERVAL '", suffix: "'" }),
  T({ name: 'VARCHAR', dataType: 12, columnSize: 2147483647, prefix: "'", suffix: "'", caseSensitive: true, searchable: 3 }),
  T({ name: 'DATE', dataType: 91, columnSize: 10, prefix: "DATE '", suffix: "'", sqlDataType: 9, subcode: 1 }),
  T({ name: 'TIME', dataType: 92, columnSize: 15, prefix: "TIME '", suffix: "'", sqlDataType: 9, subcode: 2 }),
  T({ name: 'TIMESTAMP', dataType: 93, columnSize: 26, prefix: "TIMESTAMP '", suffix: "'", sqlDataType: 9, subcode: 3 }),
  T({ name: 'TIMESTAMP WITH TIME ZONE', dataType: 93, columnSize: 32, prefix: "TIMESTAMPTZ '", suffix: "'", sqlDataType: 9, subcode: 5 }),
].sort((a, b) => a.dataType - b.dataType || a.name.localeCompare(b.name));

/** The type rows, all of them or those of one data_type. */
export function xdbcTypeInfoTable(dataType?: number): Table {
  const rows = dataType === undefined ? TYPES : TYPES.filter((t) => t.dataType === dataType);
  const values: unknown[][] = [
    rows.map((r) => r.name), rows.map((r) => r.dataType), rows.map((r) => r.columnSize), rows.map((r) => r.prefix), rows.map((r) => r.suffix),
    rows.map((r) => r.createParams), rows.map(() => 1), rows.map((r) => r.caseSensitive), rows.map((r) => r.searchable), rows.map((r) => r.unsigned),
    rows.map((r) => r.fixedPrecScale), rows.map((r) => (r.radix === 10 && r.fixedPrecScale ? false : null)), rows.map((r) => r.name), rows.map((r) => r.minScale),
    rows.map((r) => r.maxScale), rows.map((r) => r.sqlDataType), rows.map((r) => r.subcode), rows.map((r) => r.radix), rows.map(() => null),
  ];
  const children = XDBC_TYPE_INFO_SCHEMA.fields.map((field, i) => {
    const data = vectorFromArray(values[i] as never[], field.type as DataType).data;
    if (data.length !== 1) throw new Error(`xdbc column ${field.name} was built in ${data.length} chunks`);
    return data[0]!;
  });
  const batch = new RecordBatch(XDBC_TYPE_INFO_SCHEMA, makeData({ type: new Struct(XDBC_TYPE_INFO_SCHEMA.fields), length: rows.length, nullCount: 0, children }));
  return new Table([batch]);
}
