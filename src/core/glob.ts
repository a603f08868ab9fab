/**
 * Wildcard matching without regular expressions, for grant globs (`*`, `?`) and Flight SQL's
 * LIKE filters (`%`, `_`, with an escape). A RegExp built from such a pattern backtracks: `*`
 * repeated 56 times before a character that never occurs froze the event loop for seconds. The
 * matcher below keeps one resume point (the last "any run" seen) and never revisits more than
 * one position per wildcard, so it runs in O(pattern × name) time at worst and
 * O(pattern + name) for the usual patterns, whatever the input. Patterns are compiled once to
 * character codes with two markers, so each syntax only says what its characters mean.
 */

/** In a compiled pattern: any run of characters (collapsed, never two in a row). */
export const ANY_RUN = -1;
/** In a compiled pattern: exactly one character. */
export const ONE_CHAR = -2;

/** Whether `name` matches the compiled pattern as a whole (anchored at both ends). Compares UTF-16 code units. */
export function wildcardMatches(pattern: ArrayLike<number>, name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1; // position in `pattern` just after the last ANY_RUN
  let resume = 0; // position in `name` that last ANY_RUN is currently matched up to
  while (n < name.length) {
    const c = p < pattern.length ? pattern[p]! : undefined;
    if (c === ANY_RUN) {
      p++;
      star = p;
      resume = n;
    } else if (c === ONE_CHAR || (c !== undefined && c === name.charCodeAt(n))) {
      p++;
      n++;
    } else if (star >= 0) {
      // Let the last run swallow one more character and try again from just after it.
      resume++;
      n = resume;
      p = star;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === ANY_RUN) p++;
  return p === pattern.length;
}

/** Appends a code, collapsing runs of ANY_RUN into one. */
export function pushCode(codes: number[], code: number): void {
  if (code === ANY_RUN && codes[codes.length - 1] === ANY_RUN) return;
  codes.push(code);
}

/** A compiled pattern's matcher, with the common shapes (everything, a plain name) made cheap. */
export function wildcardMatcher(codes: readonly number[], literal: string | undefined): (name: string) => boolean {
  if (codes.length === 1 && codes[0] === ANY_RUN) return () => true;
  if (literal !== undefined) return (name) => name === literal;
  const compiled = Int32Array.from(codes);
  return (name) => wildcardMatches(compiled, name);
}

/** A matcher for a grant glob: `*` any run of characters, `?` exactly one, nothing escaped. */
export function compileGlob(pattern: string): (name: string) => boolean {
  const codes: number[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i);
    pushCode(codes, c === 42 /* * */ ? ANY_RUN : c === 63 /* ? */ ? ONE_CHAR : c);
  }
  return wildcardMatcher(codes, pattern.includes('*') || pattern.includes('?') ? undefined : pattern);
}
