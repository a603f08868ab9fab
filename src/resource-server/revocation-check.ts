/**
 * How a resource server learns that a flightgate token was revoked before it expired: by asking
 * flightgate (RFC 7662 introspection, with the answer cached briefly), or by reading the
 * revocation list flightgate writes (the same Redis). Either way, a check that cannot be made
 * fails closed as `unavailable`.
 */
import { createHash } from 'node:crypto';
import type { RevocationList } from '../stores/revocation-list.js';
import type { VerifiedClaims } from '../tokens/jwt-claims.js';
import { TokenError } from '../tokens/token-error.js';

export interface RevocationCheck {
  /** True while the token is live; called only for tokens whose signature and claims passed. */
  isLive(token: string, claims: VerifiedClaims): Promise<boolean>;
}

/** Reads the revocation list flightgate keeps (its Redis): every revocation is seen at once. */
export function revocationListCheck(list: RevocationList): RevocationCheck {
  return {
    async isLive(_token, claims) {
      if (typeof claims.jti !== 'string') return false;
      try {
        return !(await list.isRevoked(claims.jti));
      } catch (err) {
        throw new TokenError('unavailable', 'the revocation list cannot be read', { cause: err });
      }
    },
  };
}

export interface IntrospectionOptions {
  /** flightgate's introspection endpoint (`introspection_endpoint` of its metadata). */
  readonly endpoint: string | (() => Promise<string>);
  /** A client registered with flightgate (`flightgate clients add`); introspection needs one. */
  readonly clientId: string;
  readonly clientSecret: string;
  /** How long a "live" answer is reused: a revocation is noticed within this time. */
  readonly cacheSeconds?: number;
  readonly timeoutMs?: number;
}

const digest = (token: string): string => createHash('sha256').update(token).digest('base64url');

/**
 * Asks flightgate whether the token is active. Live answers are reused for `cacheSeconds`; a
 * revoked token stays revoked, so that answer is kept until the token expires. Callers with the
 * same token at the same moment share one request.
 */
export function introspectionCheck(options: IntrospectionOptions, now: () => number = Date.now): RevocationCheck {
  const cacheMs = (options.cacheSeconds ?? 10) * 1000;
  const answers = new Map<string, { live: boolean; untilMs: number }>();
  const inflight = new Map<string, Promise<boolean>>();
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`).toString('base64')}`;

  const ask = async (token: string): Promise<boolean> => {
    const endpoint = typeof options.endpoint === 'string' ? options.endpoint : await options.endpoint();
    let res: Response;
    try {
      res = await fetch(endpoint, {
        method: 'POST',
        redirect: 'error',
        signal: AbortSignal.timeout(options.timeoutMs ?? 3000),
        headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
      });
    } catch (err) {
      throw new TokenError('unavailable', 'the token introspection endpoint cannot be reached', { cause: err });
    }
    if (res.status === 401) throw new TokenError('unavailable', 'the token introspection endpoint refused this resource server\'s client credentials');
    if (!res.ok) throw new TokenError('unavailable', `the token introspection endpoint answered HTTP ${res.status}`);
    const body = (await res.json().catch(() => undefined)) as { active?: unknown } | undefined;
    if (typeof body?.active !== 'boolean') throw new TokenError('unavailable', 'the token introspection endpoint gave no "active" answer');
    return body.active;
  };

  return {
    async isLive(token, claims) {
      const key = digest(token);
      const at = now();
      const known = answers.get(key);
      if (known && known.untilMs > at) return known.live;
      let pending = inflight.get(key);
      if (!pending) {
        pending = ask(token).finally(() => inflight.delete(key));
        inflight.set(key, pending);
      }
      const live = await pending;
      if (answers.size > 10_000) answers.clear();
      answers.set(key, { live, untilMs: live ? at + cacheMs : claims.exp * 1000 });
      return live;
    },
  };
}
