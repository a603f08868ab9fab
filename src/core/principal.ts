/**
 * Who is calling, as established by authentication. Ids are unique only within their kind (and,
 * for external identities, their issuer): a local user `admin` and an IdP subject `admin` are
 * different principals, so tickets, limits and audit lines use the namespaced key.
 */
export type PrincipalKind = 'user' | 'client' | 'apikey' | 'certificate' | 'external' | 'anonymous' | 'application';

export interface Principal {
  /** The id within its kind: a user name, client id, API key name, certificate principal or IdP subject. */
  readonly id: string;
  readonly kind: PrincipalKind;
  /** For `external` principals: the issuer that vouched for them. */
  readonly issuer?: string;
  /** How the caller proved who it is, e.g. `anonymous`, `basic`, `session`, `jwt`. */
  readonly method: string;
  readonly roles: readonly string[];
  /** The session the call was made in (its id is a hash, never the token), when there is one. */
  readonly sessionId?: string;
  /** The verified claims of the token the call came with (JWT bearers), for row filters' claim(). */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** The principal's identity across kinds and issuers: what tickets are bound to and limits count by. */
export function principalKey(p: Pick<Principal, 'kind' | 'id' | 'issuer'>): string {
  return p.kind === 'external' ? `external:${p.issuer ?? ''}#${p.id}` : `${p.kind}:${p.id}`;
}

export const ANONYMOUS: Principal = Object.freeze({ id: 'anonymous', kind: 'anonymous', method: 'anonymous', roles: Object.freeze([]) });
