/** Dataset name patterns in grants: globs where `*` matches any run of characters and `?` one. */
import { compileGlob } from '../core/glob.js';

export function compilePattern(pattern: string): (name: string) => boolean {
  return compileGlob(pattern);
}

export function isValidPattern(pattern: string): boolean {
  return pattern.length > 0 && pattern.length <= 256 && /^[\p{L}\p{N}_.\-*?]+$/u.test(pattern);
}
