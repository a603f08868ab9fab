/**
 * `authorization: Bearer …` carries several kinds of token; each is recognised by its prefix or
 * shape without any lookup, and handed to the module for that kind.
 */
import { unauthenticated } from '../core/errors.js';
import type { Authenticator, AuthOutcome, CallContext } from './authenticator.js';

export interface BearerKind {
  /** For messages: `session token`, `API key`, `JWT`. */
  readonly name: string;
  accepts(token: string): boolean;
  authenticate(token: string, ctx: CallContext): Promise<AuthOutcome>;
}

export class BearerRouter implements Authenticator {
  readonly scheme = 'bearer';

  constructor(private readonly kinds: readonly BearerKind[]) {}

  authenticate(credential: string, ctx: CallContext): Promise<AuthOutcome> {
    const token = credential.trim();
    for (const kind of this.kinds) if (kind.accepts(token)) return kind.authenticate(token, ctx);
    return Promise.reject(unauthenticated(`unrecognised bearer token: expected ${this.kinds.map((k) => k.name).join(', ')}`));
  }
}
