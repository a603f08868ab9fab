/** `authorization: Bearer fgs_…` (or the token in `auth-token-bin`): a session from an earlier login. */
import type { AuthOutcome, CallContext } from './authenticator.js';
import type { BearerKind } from './bearer-router.js';
import { SESSION_TOKEN_PREFIX } from '../core/opaque-token.js';
import type { SessionManager } from './sessions.js';

export class SessionAuthenticator implements BearerKind {
  readonly name = 'a session token (fgs_…)';

  constructor(private readonly sessions: SessionManager) {}

  accepts(token: string): boolean {
    return token.startsWith(SESSION_TOKEN_PREFIX);
  }

  authenticate(token: string, ctx: CallContext): Promise<AuthOutcome> {
    return this.sessions.validate(token, ctx);
  }
}
