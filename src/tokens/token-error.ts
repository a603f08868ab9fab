/**
 * Why a token was not accepted. `invalid` means the token is bad (UNAUTHENTICATED / 401);
 * `unavailable` means it could not be checked because something it depends on is down
 * (UNAVAILABLE / 503) — never a reason to accept it.
 */
export class TokenError extends Error {
  override name = 'TokenError';
  constructor(
    readonly code: 'invalid' | 'unavailable',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const invalidToken = (message: string): TokenError => new TokenError('invalid', message);
