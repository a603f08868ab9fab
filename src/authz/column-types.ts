/** Which column types a rule fits, and finding a policy's columns in a dataset. */
import { DataType, type Field } from 'apache-arrow';
import type { ColumnRule } from '../core/read-policy.js';

/** The kinds of value a rule may apply to. */
export type ValueKind = 'string' | 'number' | 'temporal' | 'boolean' | 'binary' | 'other';

export function valueKind(type: DataType): ValueKind {
  if (DataType.isDictionary(type)) return valueKind(type.dictionary);
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return 'string';
  if (DataType.isInt(type) || DataType.isFloat(type) || DataType.isDecimal(type)) return 'number';
  if (DataType.isDate(type) || DataType.isTimestamp(type)) return 'temporal';
  if (DataType.isBool(type)) return 'boolean';
  if (DataType.isBinary(type) || DataType.isLargeBinary(type) || DataType.isFixedSizeBinary(type)) return 'binary';
  return 'other';
}

const FITS: Record<ColumnRule['kind'], readonly ValueKind[]> = {
  hide: ['string', 'number', 'temporal', 'boolean', 'binary', 'other'],
  null: ['string', 'number', 'temporal', 'boolean', 'binary', 'other'],
  redact: ['string'],
  hash: ['string', 'number', 'temporal', 'boolean', 'binary'],
  last: ['string'],
  truncate: ['temporal'],
};

/** Undefined when `rule` fits the column's type, else why not (naming what would). */
export function ruleMisfit(field: Field, rule: ColumnRule): string | undefined {
  const kind = valueKind(field.type);
  if (FITS[rule.kind].includes(kind)) return undefined;
  const fitting = (Object.keys(FITS) as ColumnRule['kind'][]).filter((k) => k !== 'hide' && FITS[k].includes(kind)).map((k) => (k === 'last' ? 'last4' : k === 'truncate' ? 'truncate:UNIT' : k));
  const name = rule.kind === 'last' ? `last${rule.keep}` : rule.kind === 'truncate' ? `truncate:${rule.unit}` : rule.kind;
  return `the mask ${name} does not fit column "${field.name}" (${String(field.type)}); for it use hide or ${fitting.join(', ')}`;
}

/** Finds a policy's column in the dataset: by exact name, else by the one name equal ignoring case (as SQL does). */
export function findField(fields: readonly Field[], column: string): Field | undefined {
  const exact = fields.find((f) => f.name === column);
  if (exact) return exact;
  const lower = column.toLowerCase();
  const loose = fields.filter((f) => f.name.toLowerCase() === lower);
  return loose.length === 1 ? loose[0] : undefined;
}
