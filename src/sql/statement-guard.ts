/**
 * What a caller's query may call. The engine is the first line: it is opened with no file
 * system, network, extension or configuration access, and holds nothing but the caller's views.
 * This is the second: the statement is parsed by DuckDB itself (`json_serialize_sql`) and every
 * table function and function in the tree is checked, so a spelling trick cannot pass for
 * something else. Table functions are allowed by name (few are safe); scalar functions are
 * refused by name (those that read settings or the environment).
 */
import { invalidArgument } from '../core/errors.js';

/** Table functions that only compute from their arguments or show the caller's own catalog. */
const TABLE_FUNCTIONS = new Set([
  'range', 'generate_series', 'unnest', 'json_each', 'json_tree',
  'duckdb_tables', 'duckdb_views', 'duckdb_columns', 'duckdb_schemas', 'duckdb_databases', 'duckdb_types', 'duckdb_keywords',
  'duckdb_constraints', 'duckdb_indexes', 'duckdb_sequences',
]);

/** Functions that would show the server's configuration or environment. */
const REFUSED_FUNCTIONS = new Set(['current_setting', 'getenv', 'getvariable', 'duckdb_api']);

/** Quotes `text` as a DuckDB string literal (standard SQL: quotes doubled, nothing else special). */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** The statement that asks DuckDB for the parse tree of `sql`. */
export const parseTreeQuery = (sql: string): string => `SELECT json_serialize_sql(${sqlString(sql)})`;

interface ParseTree {
  error?: boolean;
  error_message?: string;
  statements?: unknown[];
}

/**
 * Throws INVALID_ARGUMENT naming the first thing in the tree the caller may not call; returns the
 * table names the statement mentions (lower case), so only those need their data prepared.
 */
export function checkParseTree(json: string): Set<string> {
  const mentioned = new Set<string>();
  let tree: ParseTree;
  try {
    tree = JSON.parse(json) as ParseTree;
  } catch {
    throw invalidArgument('the statement could not be parsed');
  }
  if (tree.error) {
    const message = tree.error_message ?? 'the statement could not be parsed';
    if (/only select statements can be serialized/i.test(message)) {
      throw invalidArgument('only queries (SELECT …) are accepted; PIVOT and UNPIVOT are not supported yet');
    }
    throw invalidArgument(message);
  }
  if ((tree.statements?.length ?? 0) !== 1) throw invalidArgument('send one statement per query');
  const stack: unknown[] = [tree.statements ?? []];
  while (stack.length) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      stack.push(...node);
      continue;
    }
    if (!node || typeof node !== 'object') continue;
    const o = node as Record<string, unknown>;
    if (o.type === 'TABLE_FUNCTION') {
      const name = functionName(o.function);
      if (!name || !TABLE_FUNCTIONS.has(name)) {
        throw invalidArgument(`the table function ${name ?? '(unnamed)'} is not available; query the tables (datasets) you may read`);
      }
    }
    if (o.type === 'BASE_TABLE') {
      // A quoted path in FROM makes DuckDB read the file; dataset names never hold these characters.
      for (const part of [o.table_name, o.schema_name, o.catalog_name]) {
        if (typeof part === 'string' && /[/\\:]/.test(part)) throw invalidArgument('file paths and URLs are not tables; query the tables (datasets) you may read');
      }
      if (typeof o.table_name === 'string') mentioned.add(o.table_name.toLowerCase());
    }
    if (typeof o.function_name === 'string' && REFUSED_FUNCTIONS.has(o.function_name.toLowerCase())) {
      throw invalidArgument(`the function ${o.function_name} is not available`);
    }
    for (const v of Object.values(o)) if (v && typeof v === 'object') stack.push(v);
  }
  return mentioned;
}

function functionName(f: unknown): string | undefined {
  const name = (f as { function_name?: unknown } | undefined)?.function_name;
  return typeof name === 'string' ? name.toLowerCase() : undefined;
}
