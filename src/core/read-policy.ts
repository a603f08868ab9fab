/**
 * What a read grant may restrict, in its stored form (registry rows, the config file): which
 * rows (a filter expression) and how each column shows (hidden, or masked), and the checks of
 * that form. What it means for a dataset is authz/'s (column-types.ts, filter-expression.ts,
 * view-definition.ts).
 */

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

