/**
 * Prepared-statement parameters as clients bind them: an Arrow record batch sent with DoPut
 * (one column per parameter, one row per execution), read into values DuckDB binds, each cast
 * by DuckDB to the parameter's type.
 */
import { DataType, type Field, type Table } from 'apache-arrow';
import { invalidArgument } from '../../core/errors.js';
import type { ParameterValue } from '../../sql/native.js';

/** Parameters per statement, and bytes per value, that a client may bind. */
export const MAX_PARAMETERS = 1000;
export const MAX_PARAMETER_BYTES = 1024 * 1024;

/** The first row's values; a statement is run with one row of parameters. */
export function parameterRow(table: Table): ParameterValue[] {
  if (table.numCols > MAX_PARAMETERS) throw invalidArgument(`${table.numCols} parameters; at most ${MAX_PARAMETERS}`);
  if (table.numRows === 0) return [];
  if (table.numRows > 1) throw invalidArgument(`bind one row of parameters per execution (got ${table.numRows}): flightgate runs a query with one set of values`);
  return table.schema.fields.map((f, i) => valueOf(f, table.getChildAt(i)!.get(0)));
}

function valueOf(field: Field, v: unknown): ParameterValue {
  if (v === null || v === undefined) return null;
  const t = field.type;
  const where = `parameter "${field.name}"`;
  if (DataType.isBool(t)) return Boolean(v);
  if (DataType.isInt(t)) return typeof v === 'bigint' ? v : BigInt(v as number);
  if (DataType.isFloat(t)) return Number(v);
  if (DataType.isUtf8(t) || DataType.isLargeUtf8(t)) {
    const s = String(v);
    if (s.length > MAX_PARAMETER_BYTES) throw invalidArgument(`${where} is longer than ${MAX_PARAMETER_BYTES} bytes`);
    return s;
  }
  if (DataType.isBinary(t) || DataType.isLargeBinary(t) || DataType.isFixedSizeBinary(t)) return new Uint8Array(v as Uint8Array);
  if (DataType.isDecimal(t)) return decimalText(v as Uint32Array, t.scale);
  if (DataType.isDate(t)) return new Date(Number(v)).toISOString().slice(0, 10);
  if (DataType.isTimestamp(t)) {
    const iso = new Date(Number(v)).toISOString().replace('T', ' ').replace('Z', '');
    return t.timezone ? `${iso}+00` : iso;
  }
  if (DataType.isNull(t)) return null;
  throw invalidArgument(`${where} has type ${String(t)}; bind booleans, integers, floats, decimals, strings, binary, dates or timestamps`);
}

/** A 128-bit little-endian two's-complement decimal as text with `scale` digits after the point. */
function decimalText(words: Uint32Array, scale: number): string {
  let n = 0n;
  for (let i = 3; i >= 0; i--) n = (n << 32n) | BigInt(words[i] ?? 0);
  n = BigInt.asIntN(128, n);
  const negative = n < 0n;
  const digits = (negative ? -n : n).toString().padStart(scale + 1, '0');
  const text = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return negative ? `-${text}` : text;
}
