/** `authorization: Basic …` on an ordinary call: a stateless client logging in on every call. */
import type { Authenticator, AuthOutcome, CallContext } from './authenticator.js';
import { parseBasicCredentials } from './basic-credentials.js';
import type { PasswordLogin } from './password-login.js';

export class BasicAuthenticator implements Authenticator {
  readonly scheme = 'basic';

  constructor(private readonly login: PasswordLogin) {}

  async authenticate(credential: string, ctx: CallContext): Promise<AuthOutcome> {
    const { user, password } = parseBasicCredentials(credential);
    const record = await this.login.verify(user, password, ctx);
    return { principal: { id: record.name, kind: 'user', method: 'basic', roles: record.roles } };
  }
}
