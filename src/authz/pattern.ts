/** Dataset name patterns in grants: globs where `*` matches any run of characters and `?` one. */
export function compilePattern(pattern: string): (name: string) => boolean {
  if (pattern === '*') return () => true;
  if (!/[*?]/.test(pattern)) return (name) => name === pattern;
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
  return (name) => re.test(name);
}

export function isValidPattern(pattern: string): boolean {
  return pattern.length > 0 && pattern.length <= 256 && /^[\p{L}\p{N}_.\-*?]+$/u.test(pattern);
}
