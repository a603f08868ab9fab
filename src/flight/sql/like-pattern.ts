/**
 * The LIKE patterns of Flight SQL's metadata filters (`db_schema_filter_pattern`,
 * `table_name_filter_pattern`): `%` any run of characters, `_` exactly one, and the escape
 * character we advertise (SQL_SEARCH_STRING_ESCAPE, a backslash) making the next character
 * literal. Matched without regular expressions, with the same single resume point as
 * core/glob.ts, so a pattern a client chooses costs at most O(pattern × name).
 */
import { invalidArgument } from '../../core/errors.js';

export const LIKE_ESCAPE = '\\';
/** Longer patterns are refused: no catalog name comes near this. */
export const MAX_LIKE_PATTERN = 1024;

type Token = { kind: 'any' } | { kind: 'one' } | { kind: 'literal'; code: number };

function tokens(pattern: string): Token[] {
  if (pattern.length > MAX_LIKE_PATTERN) throw invalidArgument(`a filter pattern is at most ${MAX_LIKE_PATTERN} characters`);
  const out: Token[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i);
    if (c === 92 /* \ */) {
      if (i + 1 === pattern.length) throw invalidArgument(`a filter pattern may not end with the escape character ${LIKE_ESCAPE}`);
      out.push({ kind: 'literal', code: pattern.charCodeAt(++i) });
    } else if (c === 37 /* % */) {
      // Runs of % are one %.
      if (out[out.length - 1]?.kind !== 'any') out.push({ kind: 'any' });
    } else if (c === 95 /* _ */) {
      out.push({ kind: 'one' });
    } else {
      out.push({ kind: 'literal', code: c });
    }
  }
  return out;
}

function matches(t: readonly Token[], name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    const tok = t[p];
    if (tok?.kind === 'any') {
      p++;
      star = p;
      resume = n;
    } else if (tok && (tok.kind === 'one' || tok.code === name.charCodeAt(n))) {
      p++;
      n++;
    } else if (star >= 0) {
      resume++;
      n = resume;
      p = star;
    } else {
      return false;
    }
  }
  while (t[p]?.kind === 'any') p++;
  return p === t.length;
}

/**
 * A matcher for a LIKE pattern; an absent pattern matches everything, as the protocol says.
 * Case-sensitive: our identifiers are (SQL_IDENTIFIER_CASE is case-sensitive).
 */
export function compileLike(pattern: string | undefined): (name: string) => boolean {
  if (pattern === undefined) return () => true;
  const t = tokens(pattern);
  if (t.length === 1 && t[0]!.kind === 'any') return () => true;
  return (name) => matches(t, name);
}
