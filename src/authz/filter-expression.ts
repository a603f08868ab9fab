/**
 * Row filters: a boolean SQL expression over a dataset's columns, written by an operator, that
 * may use the caller's attributes (`principal()`, `roles()`, `has_role('r')`, `claim('name')`).
 * The engine parses it (DuckDB's own parser, so nothing is read differently later); this file
 * checks the tree against an allow-list, swaps each attribute call for a placeholder, and later
 * renders the expression for one caller with their attributes as SQL literals. No I/O.
 */
import type { Field } from 'apache-arrow';
import { randomBytes } from 'node:crypto';
import { PolicyError } from '../core/read-policy.js';
import { findField } from './column-types.js';

/** The statement the engine parses to check a filter: the expression as the WHERE of a plain query. */
export const FILTER_PROBE_PREFIX = 'SELECT * FROM flightgate_policy_rows WHERE ';
export const filterProbe = (expression: string): string => `${FILTER_PROBE_PREFIX}(${expression})`;

/** Pure functions a filter may call (DuckDB names, lower case); operators appear as functions too. */
const FUNCTIONS = new Set([
  '+', '-', '*', '/', '//', '%', '||', '~~', '!~~', '~~*', '!~~*', '^',
  'lower', 'upper', 'lcase', 'ucase', 'trim', 'ltrim', 'rtrim', 'length', 'strlen', 'substr', 'substring', 'left', 'right',
  'starts_with', 'prefix', 'ends_with', 'suffix', 'contains', 'concat', 'replace', 'lpad', 'rpad', 'split_part',
  'regexp_matches', 'regexp_full_match', 'like', 'ilike',
  'abs', 'round', 'floor', 'ceil', 'ceiling', 'sign', 'greatest', 'least', 'ifnull', 'nullif',
  'date_trunc', 'date_part', 'datepart', 'year', 'month', 'day', 'hour', 'minute', 'quarter', 'dayofweek', 'epoch',
  'list_contains', 'list_has', 'array_contains', 'array_has', 'list_has_any', 'array_has_any', 'list_has_all', 'array_has_all', 'len',
]);

/** Operator node types a filter may use (the rest of the tree is columns, constants and the classes below). */
const OPERATORS = new Set(['OPERATOR_NOT', 'OPERATOR_IS_NULL', 'OPERATOR_IS_NOT_NULL', 'COMPARE_IN', 'COMPARE_NOT_IN', 'OPERATOR_COALESCE']);
const CLASSES = new Set(['COLUMN_REF', 'CONSTANT', 'COMPARISON', 'CONJUNCTION', 'OPERATOR', 'FUNCTION', 'BETWEEN', 'CASE', 'CAST']);

/** The caller's attributes a filter may read. */
export type Attribute =
  | { readonly kind: 'principal' }
  | { readonly kind: 'roles' }
  | { readonly kind: 'has_role'; readonly role: string }
  | { readonly kind: 'claim'; readonly name: string };

export const ATTRIBUTE_FUNCTIONS = "principal(), roles(), has_role('ROLE'), claim('NAME')";

/** A checked filter with placeholders where the caller's attributes go. */
export interface CheckedFilter {
  /** The parse tree to turn back into SQL (the engine does it), placeholders in. */
  readonly tree: string;
  readonly nonce: string;
  readonly attributes: readonly Attribute[];
  /** The dataset columns it reads, by their names in the dataset. */
  readonly columns: readonly string[];
}

/** A filter ready to render for a caller. */
export interface FilterTemplate {
  readonly sql: string;
  readonly nonce: string;
  readonly attributes: readonly Attribute[];
}

/** Who is reading, as a filter sees them. */
export interface CallerAttributes {
  readonly principal: string;
  readonly roles: readonly string[];
  readonly claims?: Readonly<Record<string, unknown>>;
}

type Node = Record<string, unknown>;

/**
 * Checks the parse tree of `filterProbe(expression)` (from `json_serialize_sql`): one plain
 * SELECT whose WHERE holds only columns of `fields` (any, when undefined), constants, allowed operators and functions,
 * and attribute calls. Throws PolicyError naming the first thing that is not allowed.
 */
export function checkFilterTree(json: string, fields: readonly Field[] | undefined, dataset: string): CheckedFilter {
  let parsed: { error?: boolean; error_message?: string; statements?: unknown[] };
  try {
    // "No location" is 2^64 - 1, which a JavaScript number cannot hold: kept as a marker instead.
    parsed = JSON.parse(json.replaceAll(`"query_location":${NO_LOCATION}`, '"query_location":-1')) as typeof parsed;
  } catch {
    throw new PolicyError('the row filter could not be parsed');
  }
  if (parsed.error) throw new PolicyError(`the row filter does not parse: ${String(parsed.error_message ?? '').replace(/\s+/g, ' ').slice(0, 300)}`);
  const statement = parsed.statements?.length === 1 ? (parsed.statements[0] as Node) : undefined;
  const node = statement?.node as Node | undefined;
  const from = node?.from_table as Node | undefined;
  const plain =
    node?.type === 'SELECT_NODE' &&
    from?.type === 'BASE_TABLE' &&
    from.table_name === 'flightgate_policy_rows' &&
    isEmpty(node.modifiers) &&
    isEmpty((node.cte_map as Node | undefined)?.map) &&
    isEmpty(node.group_expressions) &&
    isEmpty((node.group_sets as unknown[] | undefined)?.filter((s) => !isEmpty(s))) &&
    !node.having &&
    !node.qualify &&
    !node.sample &&
    Array.isArray(node.select_list) &&
    node.select_list.length === 1 &&
    (node.select_list[0] as Node).class === 'STAR' &&
    node.where_clause;
  if (!plain) throw new PolicyError('the row filter must be one boolean expression (no clauses, subqueries or statements)');
  const nonce = randomBytes(12).toString('hex');
  const attributes: Attribute[] = [];
  const columns = new Set<string>();
  const where = rewrite(node.where_clause as Node, fields, dataset, nonce, attributes, columns);
  node.where_clause = where;
  return { tree: JSON.stringify(parsed).replaceAll('"query_location":-1', `"query_location":${NO_LOCATION}`), nonce, attributes, columns: [...columns] };
}

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v).length === 0;
  return false;
}

const NO_LOCATION = '18446744073709551615';

const placeholder = (nonce: string, i: number): string => `fgp_${nonce}_${i}`;

function constantText(n: Node | undefined): string | undefined {
  if (n?.class !== 'CONSTANT') return undefined;
  const v = n.value as { type?: { id?: string }; is_null?: boolean; value?: unknown } | undefined;
  return v?.type?.id === 'VARCHAR' && !v.is_null && typeof v.value === 'string' ? v.value : undefined;
}

function rewrite(n: Node, fields: readonly Field[] | undefined, dataset: string, nonce: string, attributes: Attribute[], columns: Set<string>): Node {
  const cls = String(n.class);
  if (!CLASSES.has(cls)) throw new PolicyError(`the row filter may not use ${describeNode(n)}; only columns, constants, comparisons, AND/OR/NOT, IN, BETWEEN, CASE, CAST and pure functions`);
  if (cls === 'COLUMN_REF') {
    const names = n.column_names as unknown[];
    if (!Array.isArray(names) || names.length !== 1 || typeof names[0] !== 'string') throw new PolicyError('the row filter names columns without a table: write region, not t.region');
    // Without the dataset's fields (a pattern no dataset matches yet) only the form is checked.
    if (!fields) {
      columns.add(names[0]);
      return n;
    }
    const field = findField(fields, names[0]);
    if (!field) throw new PolicyError(`the row filter names column "${names[0]}", which dataset "${dataset}" does not have (it has ${fields.map((f) => f.name).join(', ') || 'no columns'})`);
    columns.add(field.name);
    return n;
  }
  if (cls === 'OPERATOR' && !OPERATORS.has(String(n.type))) throw new PolicyError(`the row filter may not use the operator ${String(n.type)}`);
  if (cls === 'FUNCTION') {
    const name = String(n.function_name ?? '').toLowerCase();
    if (n.schema || (n.catalog && n.catalog !== '')) throw new PolicyError(`the row filter may not call ${String(n.schema)}.${name}`);
    const children = (n.children as Node[] | undefined) ?? [];
    const attribute = attributeOf(name, children);
    if (attribute) {
      const i = attributes.push(attribute) - 1;
      return { class: 'CONSTANT', type: 'VALUE_CONSTANT', alias: '', query_location: n.query_location ?? -1, value: { type: { id: 'VARCHAR', type_info: null }, is_null: false, value: placeholder(nonce, i) } };
    }
    if (!FUNCTIONS.has(name)) throw new PolicyError(`the row filter may not call ${name}(); it may call ${ATTRIBUTE_FUNCTIONS} and pure functions such as lower, upper, length, starts_with, regexp_matches, date_trunc, list_contains`);
    if (n.distinct || n.filter || !isEmpty((n.order_bys as Node | undefined)?.orders) || n.export_state) throw new PolicyError(`the row filter may not use ${name}() with DISTINCT, FILTER or ORDER BY`);
  }
  for (const [k, v] of Object.entries(n)) {
    if (Array.isArray(v)) n[k] = v.map((c) => (isExpression(c) ? rewrite(c as Node, fields, dataset, nonce, attributes, columns) : checkNested(c, fields, dataset, nonce, attributes, columns)));
    else if (isExpression(v)) n[k] = rewrite(v as Node, fields, dataset, nonce, attributes, columns);
    else if (v && typeof v === 'object') n[k] = checkNested(v, fields, dataset, nonce, attributes, columns);
  }
  return n;
}

/** Non-expression objects (a CASE's when/then pairs, a function's order list) may hold expressions. */
function checkNested(v: unknown, fields: readonly Field[] | undefined, dataset: string, nonce: string, attributes: Attribute[], columns: Set<string>): unknown {
  if (Array.isArray(v)) return v.map((c) => checkNested(c, fields, dataset, nonce, attributes, columns));
  if (!v || typeof v !== 'object') return v;
  if (isExpression(v)) return rewrite(v as Node, fields, dataset, nonce, attributes, columns);
  const o = v as Node;
  for (const [k, c] of Object.entries(o)) if (c && typeof c === 'object') o[k] = checkNested(c, fields, dataset, nonce, attributes, columns);
  return o;
}

const isExpression = (v: unknown): boolean => !!v && typeof v === 'object' && !Array.isArray(v) && typeof (v as Node).class === 'string' && 'type' in (v as Node);

function describeNode(n: Node): string {
  if (n.class === 'SUBQUERY') return 'a subquery';
  if (n.class === 'WINDOW') return 'a window function';
  if (n.class === 'LAMBDA') return 'a lambda';
  if (n.class === 'PARAMETER') return 'a parameter';
  if (n.class === 'STAR') return '*';
  return String(n.class).toLowerCase().replaceAll('_', ' ');
}

function attributeOf(name: string, children: Node[]): Attribute | undefined {
  switch (name) {
    case 'principal':
    case 'roles':
      if (children.length) throw new PolicyError(`${name}() takes no arguments`);
      return { kind: name };
    case 'has_role':
    case 'claim': {
      const arg = children.length === 1 ? constantText(children[0]) : undefined;
      if (arg === undefined || !arg) throw new PolicyError(`${name}() takes one string constant, e.g. ${name}('${name === 'claim' ? 'tenant' : 'auditor'}')`);
      return name === 'claim' ? { kind: 'claim', name: arg } : { kind: 'has_role', role: arg };
    }
    default:
      return undefined;
  }
}

/** The template from the engine's SQL for the checked tree (`json_deserialize_sql`). */
export function filterTemplate(checked: CheckedFilter, sql: string): FilterTemplate {
  if (!sql.startsWith(FILTER_PROBE_PREFIX)) throw new PolicyError('the row filter could not be rendered');
  const expression = sql.slice(FILTER_PROBE_PREFIX.length);
  for (let i = 0; i < checked.attributes.length; i++) {
    if (!expression.includes(`'${placeholder(checked.nonce, i)}'`)) throw new PolicyError('the row filter could not be rendered');
  }
  return { sql: expression, nonce: checked.nonce, attributes: checked.attributes };
}

/** The filter for one caller: each attribute a literal (NULL when the caller has no such claim). */
export function renderFilter(t: FilterTemplate, caller: CallerAttributes): string {
  // One pass: text a literal brings in is never looked at again.
  return t.sql.replace(new RegExp(`'fgp_${t.nonce}_(\\d+)'`, 'g'), (_m, i: string) => `(${attributeLiteral(t.attributes[Number(i)]!, caller)})`);
}

function attributeLiteral(a: Attribute, caller: CallerAttributes): string {
  switch (a.kind) {
    case 'principal':
      return stringLiteral(caller.principal);
    case 'roles':
      return listLiteral(caller.roles);
    case 'has_role':
      return caller.roles.includes(a.role) ? 'TRUE' : 'FALSE';
    case 'claim':
      return valueLiteral(claimValue(caller.claims, a.name));
  }
}

/** A claim by name, or by a dotted path into nested objects (`realm_access.roles`). */
function claimValue(claims: Readonly<Record<string, unknown>> | undefined, name: string): unknown {
  if (!claims) return undefined;
  if (Object.hasOwn(claims, name)) return claims[name];
  let v: unknown = claims;
  for (const part of name.split('.')) {
    if (!v || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, part)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

const stringLiteral = (s: string): string => (s.includes('\0') ? 'CAST(NULL AS VARCHAR)' : `'${s.replaceAll("'", "''")}'`);

function scalarLiteral(v: unknown): string | undefined {
  if (typeof v === 'string') return stringLiteral(v);
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'number' && Number.isFinite(v)) return Number.isInteger(v) ? String(v) : `CAST(${String(v)} AS DOUBLE)`;
  return undefined;
}

function listLiteral(values: readonly unknown[]): string {
  if (values.length === 0) return 'CAST([] AS VARCHAR[])';
  const scalars = values.map(scalarLiteral);
  // Lists of one kind keep it; mixed ones are lists of text.
  const allStrings = values.every((v) => typeof v === 'string');
  const allNumbers = values.every((v) => typeof v === 'number' && Number.isFinite(v));
  if ((allStrings || allNumbers) && scalars.every((s) => s !== undefined)) return `[${scalars.join(', ')}]`;
  return `[${values.map((v) => stringLiteral(typeof v === 'string' ? v : JSON.stringify(v) ?? 'null')).join(', ')}]`;
}

function valueLiteral(v: unknown): string {
  if (v === undefined || v === null) return 'NULL';
  if (Array.isArray(v)) return listLiteral(v);
  return scalarLiteral(v) ?? stringLiteral(JSON.stringify(v));
}
