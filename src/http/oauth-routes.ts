/** The OAuth 2 endpoints: token (RFC 6749), introspection (RFC 7662), revocation (RFC 7009), device authorization (RFC 8628). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { GrantRequest } from '../tokens/grants/grant.js';
import { parseFormParams } from '../tokens/form-params.js';
import { invalidRequest, OAuthError } from '../tokens/oauth-error.js';
import type { TokenService } from '../tokens/token-service.js';
import { NO_STORE, sendOAuthError } from './errors.js';

export const FORM = 'application/x-www-form-urlencoded';

function grantRequest(req: FastifyRequest): GrantRequest {
  // RFC 6749 §3.2 and RFC 7662/7009: form-encoded bodies only; a text/plain body that happens to
  // look like a form is not one (it would let a simple cross-site form post reach the endpoint).
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== FORM) throw new OAuthError('invalid_request', `the body must be ${FORM} (got ${type ? JSON.stringify(type.slice(0, 60)) : 'no content type'})`, 415);
  if (typeof req.body !== 'string') throw invalidRequest(`the body must be ${FORM}`);
  return { params: parseFormParams(req.body), authorization: req.headers.authorization, peer: `${req.socket.remoteAddress}:${req.socket.remotePort}` };
}

export function oauthRoutes(app: FastifyInstance, tokens: TokenService, onInternal: (err: unknown) => void): void {
  app.post('/oauth2/token', async (req, reply) => {
    try {
      const response = await tokens.token(grantRequest(req));
      return reply.headers(NO_STORE).send(response);
    } catch (err) {
      return sendOAuthError(reply, err, onInternal);
    }
  });

  app.post('/oauth2/introspect', async (req, reply) => {
    try {
      return reply.headers(NO_STORE).send(await tokens.introspect(grantRequest(req)));
    } catch (err) {
      return sendOAuthError(reply, err, onInternal);
    }
  });

  const devices = tokens.services.devices;
  if (devices) {
    app.post('/oauth2/device_authorization', async (req, reply) => {
      try {
        return reply.headers(NO_STORE).send(await devices.authorize(grantRequest(req).params));
      } catch (err) {
        return sendOAuthError(reply, err, onInternal);
      }
    });
  }

  app.post('/oauth2/revoke', async (req, reply) => {
    try {
      await tokens.revoke(grantRequest(req));
      return reply.headers(NO_STORE).code(200).send();
    } catch (err) {
      return sendOAuthError(reply, err, onInternal);
    }
  });
}
