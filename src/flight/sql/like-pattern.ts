/**
 * The LIKE patterns of Flight SQL's metadata filters (`db_schema_filter_pattern`,
 * `table_name_filter_pattern`): `%` any run of characters, `_` exactly one, and the escape
 * character we advertise (SQL_SEARCH_STRING_ESCAPE, a backslash) making the next character
 * literal. Compiled here, matched by core/glob.ts's wildcard matcher (no RegExp, one resume
 * point), so a pattern a client chooses costs at most O(pattern × name).
 */
import { invalidArgument } from '../../core/errors.js';
import { ANY_RUN, ONE_CHAR, pushCode, wildcardMatcher } from '../../core/glob.js';

export const LIKE_ESCAPE = '\\';
/** Longer patterns are refused: no catalog name comes near this. */
export const MAX_LIKE_PATTERN = 1024;

/** The pattern as wildcard codes, and the literal name when it has no wildcard. */
function compile(pattern: string): { codes: number[]; literal: string | undefined } {
  if (pattern.length > MAX_LIKE_PATTERN) throw invalidArgument(`a filter pattern is at most ${MAX_LIKE_PATTERN} characters`);
  const codes: number[] = [];
  let wild = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i);
    if (c === 92 /* \ */) {
      if (i + 1 === pattern.length) throw invalidArgument(`a filter pattern may not end with the escape character ${LIKE_ESCAPE}`);
      pushCode(codes, pattern.charCodeAt(++i));
    } else if (c === 37 /* % */ || c === 95 /* _ */) {
      wild = true;
      pushCode(codes, c === 37 ? ANY_RUN : ONE_CHAR);
    } else {
      pushCode(codes, c);
    }
  }
  return { codes, literal: wild ? undefined : String.fromCharCode(...codes) };
}

/**
 * A matcher for a LIKE pattern; an absent pattern matches everything, as the protocol says.
 * Case-sensitive: our identifiers are (SQL_IDENTIFIER_CASE is case-sensitive).
 */
export function compileLike(pattern: string | undefined): (name: string) => boolean {
  if (pattern === undefined) return () => true;
  const { codes, literal } = compile(pattern);
  return wildcardMatcher(codes, literal);
}
