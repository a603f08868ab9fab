/** Who is calling, as established by authentication. */
export interface Principal {
  /** Stable identifier: a user name, client id or certificate subject. */
  readonly id: string;
  /** How the caller proved who it is, e.g. `anonymous`, `basic`, `session`, `jwt`. */
  readonly method: string;
  readonly roles: readonly string[];
  /** The session the call was made in (its id is a hash, never the token), when there is one. */
  readonly sessionId?: string;
}

export const ANONYMOUS: Principal = Object.freeze({ id: 'anonymous', method: 'anonymous', roles: Object.freeze([]) });
