/**
 * The result sets of the Flight SQL metadata commands, in the schemas FlightSql.proto fixes for
 * them (clients such as the JDBC driver read columns by position and type, so these must be
 * exact), and the GetTables result with each table's schema serialised as an encapsulated IPC
 * message when `include_schema` is asked.
 */
import { Binary, Field, Int32, makeData, RecordBatch, Schema, Struct, Table, Uint8, Utf8, vectorFromArray, type DataType } from 'apache-arrow';
import { encapsulate, schemaMessage } from '../../ipc/message.js';

const utf8 = (name: string, nullable: boolean): Field => new Field(name, new Utf8(), nullable);

export const CATALOGS_SCHEMA = new Schema([utf8('catalog_name', false)]);
export const DB_SCHEMAS_SCHEMA = new Schema([utf8('catalog_name', true), utf8('db_schema_name', false)]);
export const TABLE_TYPES_SCHEMA = new Schema([utf8('table_type', false)]);

export function tablesSchema(includeSchema: boolean): Schema {
  const fields = [utf8('catalog_name', true), utf8('db_schema_name', true), utf8('table_name', false), utf8('table_type', false)];
  if (includeSchema) fields.push(new Field('table_schema', new Binary(), false));
  return new Schema(fields);
}

export const PRIMARY_KEYS_SCHEMA = new Schema([
  utf8('catalog_name', true),
  utf8('db_schema_name', true),
  utf8('table_name', false),
  utf8('column_name', false),
  utf8('key_name', true),
  new Field('key_sequence', new Int32(), false),
]);

/** GetExportedKeys, GetImportedKeys and GetCrossReference share one schema. */
export const FOREIGN_KEYS_SCHEMA = new Schema([
  utf8('pk_catalog_name', true),
  utf8('pk_db_schema_name', true),
  utf8('pk_table_name', false),
  utf8('pk_column_name', false),
  utf8('fk_catalog_name', true),
  utf8('fk_db_schema_name', true),
  utf8('fk_table_name', false),
  utf8('fk_column_name', false),
  new Field('key_sequence', new Int32(), false),
  utf8('fk_key_name', true),
  utf8('pk_key_name', true),
  new Field('update_rule', new Uint8(), false),
  new Field('delete_rule', new Uint8(), false),
]);

export interface TableListing {
  readonly catalog?: string;
  readonly dbSchema?: string;
  readonly table: string;
  readonly type: string;
  /** Needed when the listing includes schemas. */
  readonly schema?: Schema;
}

/** A one-batch table in exactly `schema` (nullability included) from columns of plain values. */
function tableOf(schema: Schema, columns: readonly (readonly unknown[])[]): Table {
  const length = columns[0]?.length ?? 0;
  const children = schema.fields.map((f, i) => {
    const data = vectorFromArray(columns[i] as unknown[], f.type as DataType).data;
    if (data.length !== 1) throw new Error(`column ${f.name} was built in ${data.length} chunks`);
    return data[0]!;
  });
  const batch = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length, nullCount: 0, children }));
  return new Table([batch]);
}

export function catalogsTable(names: readonly string[]): Table {
  return tableOf(CATALOGS_SCHEMA, [names]);
}

export function dbSchemasTable(rows: readonly { catalog?: string; dbSchema: string }[]): Table {
  return tableOf(DB_SCHEMAS_SCHEMA, [rows.map((r) => r.catalog ?? null), rows.map((r) => r.dbSchema)]);
}

export function tableTypesTable(types: readonly string[]): Table {
  return tableOf(TABLE_TYPES_SCHEMA, [types]);
}

export function tablesTable(rows: readonly TableListing[], includeSchema: boolean): Table {
  const columns: unknown[][] = [rows.map((r) => r.catalog ?? null), rows.map((r) => r.dbSchema ?? null), rows.map((r) => r.table), rows.map((r) => r.type)];
  if (includeSchema) {
    columns.push(
      rows.map((r) => {
        if (!r.schema) throw new Error(`no schema for table ${r.table} in a listing that includes schemas`);
        return encapsulate(schemaMessage(r.schema));
      }),
    );
  }
  return tableOf(tablesSchema(includeSchema), columns);
}
