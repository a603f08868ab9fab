/**
 * The server for bench/sessions_scale.py: flightgate's own security (registry, session store in
 * memory or Redis as configured by the environment) with N live sessions of one user put into
 * its store before the Flight server starts, as N people logged in would leave them (logging in
 * 100,000 times would measure argon2id instead). Prints the Flight URI, then writes a few of the
 * session tokens to the file named by FG_TOKENS for the client.
 *
 * usage: node --expose-gc --import tsx bench/sessions-server.mts DATA_DIR SESSIONS
 */
import { writeFileSync } from 'node:fs';
import { FlightgateMetrics } from '../src/audit/flightgate-metrics.js';
import { loadConfig } from '../src/config/load.js';
import { openControlPlane } from '../src/control-plane.js';
import { newOpaqueToken, SESSION_TOKEN_PREFIX, tokenId } from '../src/core/opaque-token.js';
import { startServer } from '../src/server.js';

const [dataDir, count] = process.argv.slice(2);
const n = Number(count);
const config = loadConfig({ overrides: { dataDir, host: '127.0.0.1', port: 0, httpPort: 0, audit: { file: `${dataDir}/audit.log` } } });
const quiet = { info: () => {}, warn: (m: string) => process.stderr.write(`warning: ${m}\n`), error: (m: string) => process.stderr.write(`error: ${m}\n`) };
let store: { count(): Promise<number> } | undefined;
const metrics = new FlightgateMetrics({ activeCalls: () => 0, connections: () => 0, pendingBytes: () => 0, activeSessions: () => store?.count() ?? Promise.resolve(0) });
const control = await openControlPlane({ config, logger: quiet, metrics });
const sessions = control.security.sessionStore;
store = sessions;
const user = await control.security.registry.users.get('bench');
if (!user) throw new Error('no user "bench" in the registry');
const now = Date.now();
const tokens: string[] = [];
for (let i = 0; i < n; i += 1000) {
  await Promise.all(
    Array.from({ length: Math.min(1000, n - i) }, async () => {
      const token = newOpaqueToken(SESSION_TOKEN_PREFIX);
      await sessions.put(tokenId(token), { user: user.name, roles: user.roles, createdAt: now, expiresAt: now + 8 * 3600_000, idleMs: 3600_000, lastSeenAt: now });
      if (tokens.length < 16) tokens.push(token);
    }),
  );
}
// What putting them in cost this process is not what serving them costs: collected before measuring.
(globalThis as { gc?: () => void }).gc?.();
const server = await startServer(config, { access: control.security.access, logger: quiet });
writeFileSync(process.env.FG_TOKENS!, JSON.stringify(tokens), { mode: 0o600 });
console.log(`flightgate listening on ${server.uri} sessions=${await sessions.count()} store=${sessions.kind}`);
process.on('SIGTERM', async () => {
  await server.close(500);
  await control.close();
  process.exit(0);
});
