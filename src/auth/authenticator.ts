/**
 * What every authentication scheme implements. The router picks one by the scheme of the
 * credential a call presents; adding a scheme is one new module registered in the router.
 */
import type { Principal } from '../core/principal.js';

export interface CallContext {
  /** The RPC or endpoint, for audit. */
  readonly rpc: string;
  /** `ip:port` of the caller. */
  readonly peer: string;
  /**
   * False where the answer cannot hand the caller a rotated session token (GET /whoami): a
   * session due for rotation is then left as it is rather than rotated and the new token lost.
   */
  readonly canRotate?: boolean;
}

/** A session token handed to the caller, to be sent back as `authorization: Bearer`. */
export interface IssuedToken {
  readonly token: string;
  readonly expiresIn: number;
}

export interface AuthOutcome {
  readonly principal: Principal;
  /** A fresh token the response should carry (a rotation). */
  readonly issued?: IssuedToken;
}

export interface Authenticator {
  /** Lower-case scheme name as in the `authorization` header: `basic`, `bearer`. */
  readonly scheme: string;
  authenticate(credential: string, ctx: CallContext): Promise<AuthOutcome>;
}
