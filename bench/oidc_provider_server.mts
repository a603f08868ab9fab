/**
 * oidc-provider on loopback for the benchmarks, in its own process so it does not share an event
 * loop with the load generator: one provider issuing ES256 JWT access tokens (as flightgate
 * does) and one issuing opaque tokens (the only kind it introspects). Prints
 * `issuers <jwt-issuer> <opaque-issuer>` when ready.
 */
import { startTestIssuer } from '../test/helpers/test-issuer.js';

export const BENCH_CLIENT = { clientId: 'bench', clientSecret: 'bench-secret-0123456789-abcdef', groups: ['user_role'] };

const jwt = await startTestIssuer({ clients: [BENCH_CLIENT], accessTokenTtlSeconds: 3600 });
const opaque = await startTestIssuer({ clients: [BENCH_CLIENT], accessTokenTtlSeconds: 3600, accessTokenFormat: 'opaque' });
console.log(`issuers ${jwt.issuer} ${opaque.issuer}`);
const stop = (): void => {
  void Promise.all([jwt.stop(), opaque.stop()]).finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
