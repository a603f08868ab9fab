/**
 * Glob matching (`*` any run of characters, `?` exactly one) without regular expressions. A
 * RegExp built from a glob backtracks: `*` repeated 56 times before a character that never
 * occurs froze the event loop for seconds. This matcher keeps one resume point (the last `*`
 * seen) and never revisits more than one position per star, so it runs in O(pattern × name)
 * time at worst and O(pattern + name) for the usual patterns, whatever the input.
 */

/** Whether `name` matches `pattern` as a whole (anchored at both ends). Compares UTF-16 code units. */
export function globMatches(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1; // position in `pattern` just after the last `*`
  let resume = 0; // position in `name` that last `*` is currently matched up to
  while (n < name.length) {
    const c = p < pattern.length ? pattern.charCodeAt(p) : -1;
    if (c === 42 /* * */) {
      // Runs of stars are one star.
      while (p < pattern.length && pattern.charCodeAt(p) === 42) p++;
      star = p;
      resume = n;
    } else if (c === 63 /* ? */ || (c !== -1 && c === name.charCodeAt(n))) {
      p++;
      n++;
    } else if (star >= 0) {
      // Let the last star swallow one more character and try again from just after it.
      resume++;
      n = resume;
      p = star;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern.charCodeAt(p) === 42) p++;
  return p === pattern.length;
}

/** A matcher for `pattern`, with the common shapes (everything, a plain name) made cheap. */
export function compileGlob(pattern: string): (name: string) => boolean {
  if (/^\*+$/.test(pattern)) return () => true;
  if (!pattern.includes('*') && !pattern.includes('?')) return (name) => name === pattern;
  return (name) => globMatches(pattern, name);
}
