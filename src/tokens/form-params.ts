/** An `application/x-www-form-urlencoded` body where each parameter appears at most once (RFC 6749 §3.1). */
import { invalidRequest } from './oauth-error.js';

export type FormParams = ReadonlyMap<string, string>;

export function parseFormParams(body: string): FormParams {
  const out = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(body)) {
    if (out.has(name)) throw invalidRequest(`parameter "${name.slice(0, 64)}" given more than once`);
    out.set(name, value);
  }
  return out;
}
