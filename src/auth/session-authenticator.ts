/** `authorization: Bearer fgs_…` (or the token in `auth-token-bin`): a session from an earlier login. */
import type { Authenticator, AuthOutcome, CallContext } from './authenticator.js';
import type { SessionManager } from './sessions.js';

export class SessionAuthenticator implements Authenticator {
  readonly scheme = 'bearer';

  constructor(private readonly sessions: SessionManager) {}

  authenticate(credential: string, ctx: CallContext): Promise<AuthOutcome> {
    return this.sessions.validate(credential.trim(), ctx);
  }
}
