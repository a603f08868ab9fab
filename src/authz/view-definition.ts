/**
 * Composes the read grants that apply to one caller and dataset into the view the caller gets:
 * a projection (each column as is, masked, or absent) and a row filter. Several grants combine
 * as the most permissive per row: the rows are those any grant shows, and each row's column
 * shows as the most open grant that shows that row lets it. Every projected column of a
 * filtered view is guarded by the filter itself, so no expression a caller writes over the view
 * can ever see a value of a row the filter leaves out, whatever order the planner evaluates in.
 */
import type { Field } from 'apache-arrow';
import type { ColumnRule } from '../core/read-policy.js';
import { valueKind } from './column-types.js';

/** The session variable the engine holds the column-hash key in; callers can neither read nor set it. */
export const MASK_KEY_VARIABLE = 'flightgate_mask_key';

/** One applicable grant, ready to compose: its filter rendered for the caller, its rules by field name. */
export interface GrantRestriction {
  readonly id: string;
  /** SQL, rendered for this caller; absent: every row. */
  readonly filter?: string;
  readonly columns: ReadonlyMap<string, ColumnRule>;
}

export interface ViewDefinition {
  /** The SELECT list over the dataset's columns. */
  readonly select: string;
  /** The WHERE condition; absent: every row. */
  readonly where?: string;
  readonly hidden: readonly string[];
  readonly masked: readonly string[];
  readonly grants: readonly string[];
  /** Whether the projection uses the column-hash key. */
  readonly usesMaskKey: boolean;
}

/** DuckDB quotes identifiers in double quotes, doubling any inside. */
const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** How permissive a treatment is: lower shows more. */
const openness = (rule: ColumnRule | undefined): number => (rule === undefined ? 0 : rule.kind === 'hide' ? 2 : 1);

/**
 * `guard: false` is for reads that run no SQL of the caller's (a DoGet): the WHERE alone then
 * decides the rows, and the last grant's condition need not be repeated per column.
 */
export function viewDefinition(fields: readonly Field[], grants: readonly GrantRestriction[], options: { guard?: boolean } = {}): ViewDefinition {
  const guard = options.guard ?? true;
  if (grants.length === 0) throw new Error('a view needs at least one grant');
  const everyRow = grants.some((g) => g.filter === undefined);
  const where = everyRow ? undefined : grants.map((g) => `(${g.filter})`).join(' OR ');
  const select: string[] = [];
  const hidden: string[] = [];
  const masked: string[] = [];
  let usesMaskKey = false;
  for (const field of fields) {
    const c = ident(field.name);
    // The most open treatment first; a grant for every row ends the CASE.
    const branches = grants.map((g) => ({ filter: g.filter, rule: g.columns.get(field.name) })).sort((a, b) => openness(a.rule) - openness(b.rule));
    if (branches.every((b) => b.rule?.kind === 'hide')) {
      hidden.push(field.name);
      continue;
    }
    const textual = branches.some((b) => b.rule?.kind === 'hash') && valueKind(field.type) !== 'string';
    const parts: { filter: string; e: string }[] = [];
    let otherwise: string | undefined;
    let anyMask = false;
    let hiddenFromSome = false;
    for (const b of branches) {
      if (b.rule?.kind === 'hide') {
        hiddenFromSome = true; // NULL for the rows only hiding grants show
        break;
      }
      if (b.rule) anyMask = true;
      if (b.rule?.kind === 'hash') usesMaskKey = true;
      let e = b.rule ? maskExpression(c, field, b.rule) : c;
      if (textual && b.rule?.kind !== 'hash') e = `CAST(${e} AS VARCHAR)`;
      if (b.filter === undefined) {
        otherwise = e;
        break;
      }
      parts.push({ filter: b.filter, e });
    }
    if (anyMask) masked.push(field.name);
    // Unguarded, every row left passed some grant's filter: when every grant is a branch here,
    // the last one's condition is implied.
    if (!guard && otherwise === undefined && !hiddenFromSome && parts.length) otherwise = parts.pop()!.e;
    let expression: string;
    if (parts.length === 0) expression = otherwise ?? `CASE WHEN false THEN ${c} END`;
    else expression = `CASE ${parts.map((p) => `WHEN (${p.filter}) THEN ${p.e}`).join(' ')}${otherwise ? ` ELSE ${otherwise}` : ''} END`;
    select.push(`${expression} AS ${c}`);
  }
  return { select: select.join(', ') || 'NULL AS "no visible columns"', ...(where ? { where } : {}), hidden, masked, grants: grants.map((g) => g.id), usesMaskKey };
}

function maskExpression(c: string, field: Field, rule: ColumnRule): string {
  switch (rule.kind) {
    case 'hide':
    case 'null':
      // Typed like the column: a NULL of its own type.
      return `CASE WHEN false THEN ${c} END`;
    case 'redact':
      return `CASE WHEN ${c} IS NULL THEN NULL ELSE '****' END`;
    case 'hash':
      // A keyed pseudonym: equal values give equal text (joins and counts still work), and without the key no one can compute one.
      return `CASE WHEN ${c} IS NULL THEN NULL ELSE left(sha256(getvariable('${MASK_KEY_VARIABLE}') || CAST(${c} AS VARCHAR)), 32) END`;
    case 'last': {
      const k = rule.keep;
      return `CASE WHEN ${c} IS NULL THEN NULL WHEN length(${c}) <= ${k} THEN repeat('*', length(${c})) ELSE repeat('*', length(${c}) - ${k}) || right(${c}, ${k}) END`;
    }
    case 'truncate': {
      const e = `date_trunc('${rule.unit}', ${c})`;
      return valueKind(field.type) === 'temporal' && String(field.type).startsWith('Date') ? `CAST(${e} AS DATE)` : e;
    }
  }
}
