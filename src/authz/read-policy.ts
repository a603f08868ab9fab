/**
 * What a read grant may restrict: which rows (a filter expression) and how each column shows
 * (hidden, or masked). This file holds the stored form and the column rules; the filter's checks
 * are in filter-expression.ts and the composition into a view in view-definition.ts.
 */
import { DataType, type Field } from 'apache-arrow';

/** As stored (registry, config file): the filter's text and, per column, a rule's text. */
export interface ReadPolicy {
  /** A boolean SQL expression over the dataset's columns; absent: every row. */
  readonly rows?: string;
  /** Column → `hide`, `null`, `redact`, `hash`, `last4` (`last1`…`last9`) or `truncate:UNIT`. */
  readonly columns?: Readonly<Record<string, string>>;
}

export type TruncateUnit = 'year' | 'quarter' | 'month' | 'week' | 'day' | 'hour' | 'minute';

export type ColumnRule =
  | { readonly kind: 'hide' }
  | { readonly kind: 'null' }
  | { readonly kind: 'redact' }
  | { readonly kind: 'hash' }
  | { readonly kind: 'last'; readonly keep: number }
  | { readonly kind: 'truncate'; readonly unit: TruncateUnit };

const UNITS: readonly TruncateUnit[] = ['year', 'quarter', 'month', 'week', 'day', 'hour', 'minute'];

/** The rules an operator may write, for messages. */
export const COLUMN_RULES = 'hide, null, redact, hash, last4 (last1…last9), truncate:year|quarter|month|week|day|hour|minute';

/** A policy that cannot be applied as written: the message names what to fix. */
export class PolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyError';
  }
}

/** Longest filter expression accepted. */
export const MAX_FILTER_CHARS = 4096;
/** Most column rules in one policy. */
export const MAX_COLUMN_RULES = 1024;

export function parseColumnRule(column: string, text: string): ColumnRule {
  const t = text.trim().toLowerCase();
  if (t === 'hide' || t === 'null' || t === 'redact' || t === 'hash') return { kind: t };
  const last = /^last([1-9])$/.exec(t);
  if (last) return { kind: 'last', keep: Number(last[1]) };
  const trunc = /^truncate:([a-z]+)$/.exec(t);
  if (trunc && (UNITS as readonly string[]).includes(trunc[1]!)) return { kind: 'truncate', unit: trunc[1] as TruncateUnit };
  throw new PolicyError(`column "${column}": "${text}" is not a column rule; use one of ${COLUMN_RULES}`);
}

/** Checks the stored form's shape (not the columns' existence: that needs the dataset). */
export function checkReadPolicy(policy: ReadPolicy): void {
  if (policy.rows !== undefined) {
    if (typeof policy.rows !== 'string' || !policy.rows.trim()) throw new PolicyError('the row filter is empty; leave it out for every row');
    if (policy.rows.length > MAX_FILTER_CHARS) throw new PolicyError(`the row filter is ${policy.rows.length} characters; at most ${MAX_FILTER_CHARS}`);
    if (policy.rows.includes('\0')) throw new PolicyError('the row filter contains a NUL character');
  }
  const entries = Object.entries(policy.columns ?? {});
  if (entries.length > MAX_COLUMN_RULES) throw new PolicyError(`${entries.length} column rules; at most ${MAX_COLUMN_RULES}`);
  for (const [column, rule] of entries) {
    if (!column || column.length > 256 || column.includes('\0')) throw new PolicyError(`"${column.slice(0, 80)}" is not a column name`);
    parseColumnRule(column, rule);
  }
}

/** Whether a policy restricts anything. */
export const restricts = (p: ReadPolicy | undefined): boolean => p !== undefined && (p.rows !== undefined || Object.keys(p.columns ?? {}).length > 0);

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
