/**
 * `GET /whoami`: a protected resource (RFC 6750) that answers who a bearer token stands for,
 * through the same authentication as Flight. Errors carry a `WWW-Authenticate: Bearer` challenge.
 */
import type { FastifyInstance } from 'fastify';
import type { AuthGate } from '../auth/auth-gate.js';
import { FlightgateError } from '../core/errors.js';
import { Status } from '../core/status.js';

const quote = (s: string): string => s.replace(/[^\x20-\x7e]|["\\]/g, '');

export function whoamiRoute(app: FastifyInstance, gate: AuthGate, onInternal: (err: unknown) => void): void {
  app.get('/whoami', async (req, reply) => {
    const authorization = req.headers.authorization;
    reply.header('cache-control', 'no-store');
    if (!authorization || !/^bearer\s/i.test(authorization.trim())) {
      return reply.code(401).header('www-authenticate', 'Bearer realm="flightgate"').send({ error: 'invalid_token', error_description: 'a bearer token is required' });
    }
    try {
      const { principal } = await gate.authenticate({ authorization }, { rpc: 'HTTP /whoami', peer: `${req.socket.remoteAddress}:${req.socket.remotePort}`, canRotate: false });
      return reply.send({ principal: principal.id, kind: principal.kind, ...(principal.issuer !== undefined ? { issuer: principal.issuer } : {}), method: principal.method, roles: principal.roles });
    } catch (err) {
      if (err instanceof FlightgateError && err.status === Status.UNAUTHENTICATED) {
        return reply
          .code(401)
          .header('www-authenticate', `Bearer realm="flightgate", error="invalid_token", error_description="${quote(err.message)}"`)
          .send({ error: 'invalid_token', error_description: err.message });
      }
      if (err instanceof FlightgateError && err.status === Status.UNAVAILABLE) {
        return reply.code(503).header('retry-after', '1').send({ error: 'temporarily_unavailable', error_description: err.message });
      }
      onInternal(err);
      return reply.code(500).send({ error: 'server_error', error_description: 'internal error' });
    }
  });
}
