/** OAuth scopes: space-separated tokens (RFC 6749 §3.3). */
import { invalidScope } from './oauth-error.js';

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** The granted scope: what was asked, if every part is allowed; everything allowed if nothing was asked. */
export function grantScope(requested: string | undefined, allowed: readonly string[]): string {
  if (requested === undefined || requested.trim() === '') return allowed.join(' ');
  const parts = [...new Set(requested.split(' ').filter(Boolean))];
  for (const p of parts) {
    if (!SCOPE_TOKEN.test(p)) throw invalidScope('malformed scope');
    if (!allowed.includes(p)) throw invalidScope(`scope "${p.slice(0, 64)}" is not allowed for this client`);
  }
  return parts.join(' ');
}
