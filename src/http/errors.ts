/** Turns what the services throw into HTTP answers: OAuth errors per RFC 6749 §5.2, statuses mapped. */
import type { FastifyReply } from 'fastify';
import { FlightgateError } from '../core/errors.js';
import { Status } from '../core/status.js';
import { OAuthError } from '../tokens/oauth-error.js';

export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

export function sendOAuthError(reply: FastifyReply, err: unknown, onInternal: (err: unknown) => void): FastifyReply {
  let e: OAuthError;
  if (err instanceof OAuthError) e = err;
  else if (err instanceof FlightgateError && err.status === Status.UNAVAILABLE) e = new OAuthError('temporarily_unavailable', err.message, 503);
  else if (err instanceof FlightgateError && err.status === Status.UNAUTHENTICATED) e = new OAuthError('invalid_grant', err.message);
  else if (err instanceof FlightgateError && err.status === Status.INVALID_ARGUMENT) e = new OAuthError('invalid_request', err.message);
  // A capacity limit (the login throttle's, for the password grant) is the client's cue to retry later, not a server fault.
  else if (err instanceof FlightgateError && err.status === Status.RESOURCE_EXHAUSTED) e = new OAuthError('temporarily_unavailable', err.message, 429);
  else {
    onInternal(err);
    e = new OAuthError('server_error', 'internal error', 500);
  }
  reply.code(e.status).headers(NO_STORE);
  if (e.challenge) reply.header('www-authenticate', e.challenge);
  return reply.send({ error: e.error, error_description: e.description });
}
