/**
 * Our HTTP app (the same fastify configuration, body parsers and routes as `serve`, over a
 * throw-away SQLite registry) plus one no-op POST route, for the benchmark: it tells what an
 * HTTP POST with a form body costs here before any OAuth work. Prints `listening on URL`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { buildHttpApp } from '../src/http/app.js';
import { buildSecurity } from '../src/security.js';

const dir = mkdtempSync(join(tmpdir(), 'fg-noop-'));
const config = loadConfig({ env: {}, overrides: { dataDir: dir, audit: { file: join(dir, 'audit.log') } } });
const security = await buildSecurity(config, { info: () => undefined, warn: () => undefined }, 'http://127.0.0.1');
const app = buildHttpApp({ issuer: security.issuer, tokens: security.tokenService, keys: security.keyRing, gate: security.gate, passwordGrant: false, onInternalError: console.error });
app.post('/noop', async () => ({ active: false }));
const url = await app.listen({ port: 0, host: '127.0.0.1' });
console.log(`listening on ${url}`);
const stop = (): void => {
  void app.close().then(() => security.close()).finally(() => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
