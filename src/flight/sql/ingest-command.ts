/**
 * CommandStatementIngest (FlightSql.proto): what ADBC's `adbc_ingest` sends with DoPut, and how
 * its table-definition options map to flightgate's upload modes.
 */
import { invalidArgument, unimplemented } from '../../core/errors.js';
import { intField, lenField, ProtoWriter, readFields, strField, WireType } from '../proto/wire.js';

export const TableNotExist = { UNSPECIFIED: 0, CREATE: 1, FAIL: 2 } as const;
export const TableExists = { UNSPECIFIED: 0, FAIL: 1, APPEND: 2, REPLACE: 3 } as const;

export interface StatementIngest {
  ifNotExist: number;
  ifExists: number;
  table: string;
  schema?: string;
  catalog?: string;
  temporary: boolean;
  transactionId?: Uint8Array;
  options: Map<string, string>;
}

export function decodeStatementIngest(buf: Uint8Array): StatementIngest {
  const m: StatementIngest = { ifNotExist: 0, ifExists: 0, table: '', temporary: false, options: new Map() };
  readFields(buf, 'CommandStatementIngest', (r, f, w) => {
    if (f === 1) {
      readFields(lenField(r, w, f), 'TableDefinitionOptions', (rr, ff, ww) => {
        if (ff === 1) m.ifNotExist = intField(rr, ww, ff);
        else if (ff === 2) m.ifExists = intField(rr, ww, ff);
        else return false;
        return true;
      });
    } else if (f === 2) m.table = strField(r, w, f);
    else if (f === 3) m.schema = strField(r, w, f);
    else if (f === 4) m.catalog = strField(r, w, f);
    else if (f === 5) {
      r.expect(w, WireType.VARINT, f);
      m.temporary = r.varint() !== 0;
    } else if (f === 6) m.transactionId = lenField(r, w, f);
    else if (f === 1000) {
      let key = '';
      let value = '';
      readFields(lenField(r, w, f), 'CommandStatementIngest option', (rr, ff, ww) => {
        if (ff === 1) key = strField(rr, ww, ff);
        else if (ff === 2) value = strField(rr, ww, ff);
        else return false;
        return true;
      });
      m.options.set(key, value);
    } else return false;
    return true;
  });
  return m;
}

export function encodeStatementIngest(m: Partial<StatementIngest> & { table: string }): Uint8Array {
  const opts = new ProtoWriter().uint(1, m.ifNotExist ?? 0).uint(2, m.ifExists ?? 0).finish();
  const w = new ProtoWriter().message(1, opts).string(2, m.table).string(3, m.schema, true).string(4, m.catalog, true).bool(5, m.temporary ?? false);
  w.bytes(6, m.transactionId, true);
  for (const [k, v] of m.options ?? []) w.message(1000, new ProtoWriter().string(1, k).string(2, v).finish());
  return w.finish();
}

/** The upload mode for an ingest, given whether the table exists now. */
export function ingestMode(m: StatementIngest, exists: boolean): 'create' | 'append' | 'replace' {
  if (m.temporary) throw unimplemented('temporary tables are not supported: ingest into a dataset (temporary = false)');
  if (m.transactionId?.length) throw unimplemented('flightgate has no transactions; ingest without a transaction id (each ingest is atomic by itself)');
  if (m.ifNotExist === TableNotExist.UNSPECIFIED || m.ifExists === TableExists.UNSPECIFIED) {
    throw invalidArgument('CommandStatementIngest needs table_definition_options with if_not_exist and if_exists set');
  }
  if (!exists) {
    if (m.ifNotExist === TableNotExist.FAIL) throw invalidArgument(`table "${m.table}" does not exist (if_not_exist = FAIL)`);
    return 'create';
  }
  if (m.ifExists === TableExists.FAIL) throw invalidArgument(`table "${m.table}" already exists (if_exists = FAIL)`);
  return m.ifExists === TableExists.REPLACE ? 'replace' : 'append';
}
