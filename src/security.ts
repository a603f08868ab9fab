/**
 * Wires authentication and authorization from the configuration: the registry (SQLite or
 * PostgreSQL), the session store (memory or Redis), the audit log, and the Flight access control
 * built on them. Part of the composition root; the only place these adapters are chosen.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ApiKeyAuthenticator } from './auth/api-key-authenticator.js';
import { BearerRouter, type BearerKind } from './auth/bearer-router.js';
import { JwtAuthenticator } from './auth/jwt-authenticator.js';
import { ConfigError } from './config/load.js';
import { MemoryRevocationList } from './stores/memory-revocation-list.js';
import { RedisRevocationList } from './stores/redis-revocation-list.js';
import type { RevocationList } from './stores/revocation-list.js';
import { AccessTokenIssuer } from './tokens/access-token-issuer.js';
import { ClientAuthenticator } from './tokens/client-authentication.js';
import { ClientDirectory } from './tokens/client-directory.js';
import { ExternalIssuer } from './tokens/external-issuer.js';
import type { GrantUsers } from './tokens/grants/grant.js';
import { JwtBearerVerifier } from './tokens/jwt-bearer-verifier.js';
import { KeyEncryptionKey } from './tokens/key-encryption.js';
import { RefreshTokens } from './tokens/refresh-tokens.js';
import { SigningKeyRing, signingAlgorithm } from './tokens/signing-keys.js';
import { PUBLIC_EXCHANGE_CLIENT } from './tokens/token-response.js';
import { TokenService } from './tokens/token-service.js';
import { AuditLog, type AuditSink } from './audit/audit-log.js';
import type { ReadinessReport } from './core/readiness.js';
import { CertificateAuthenticator } from './auth/certificate-authenticator.js';
import { UsageLimits } from './authz/usage-limits.js';
import { AuthGate } from './auth/auth-gate.js';
import { BasicAuthenticator } from './auth/basic-authenticator.js';
import { DEMO_USERS, seedDemoUsers } from './auth/demo-users.js';
import { PasswordLogin } from './auth/password-login.js';
import { SessionAuthenticator } from './auth/session-authenticator.js';
import { SessionManager } from './auth/sessions.js';
import { LoginThrottle } from './auth/throttle.js';
import { UserDirectory } from './auth/user-directory.js';
import type { Config } from './config/schema.js';
import { SecuredAccess } from './flight/secured-access.js';
import { TicketCodec } from './flight/ticket.js';
import type { AttemptCounter } from './stores/attempt-counter.js';
import { MemoryAttemptCounter } from './stores/memory-attempt-counter.js';
import { MemorySessionStore } from './stores/memory-session-store.js';
import { RedisAttemptCounter } from './stores/redis-attempt-counter.js';
import { openRedis, redisReady } from './stores/redis-client.js';
import { RedisSessionStore } from './stores/redis-session-store.js';
import type { Registry } from './stores/registry.js';
import type { SessionStore } from './stores/session-store.js';
import { openRegistry } from './stores/sql/open.js';

export interface SecurityLogger {
  info(message: string): void;
  warn(message: string): void;
}

export interface Security {
  registry: Registry;
  sessionStore: SessionStore;
  /** The audit log as components record to it (observed, when asked). */
  audit: AuditSink;
  /** Whether the registry and the shared stores answer now, check by check. */
  readiness(): Promise<ReadinessReport>;
  access: SecuredAccess;
  sessions: SessionManager;
  tickets: TicketCodec;
  gate: AuthGate;
  tokenService: TokenService;
  keyRing: SigningKeyRing;
  issuer: string;
  close(): Promise<void>;
}

/** Logs a backend's connection errors once per outage window instead of once per retry. */
function throttledWarning(logger: SecurityLogger, what: string, everyMs = 10_000): (err: Error) => void {
  let last = 0;
  return (err) => {
    const now = Date.now();
    if (now - last < everyMs) return;
    last = now;
    logger.warn(`${what}: ${err.message} (calls needing it fail with UNAVAILABLE until it is back)`);
  };
}

const READINESS_TIMEOUT_MS = 2000;

/** Runs one readiness check with a time limit; never throws. */
async function probe(check: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${READINESS_TIMEOUT_MS} ms`)), READINESS_TIMEOUT_MS);
      }),
    ]);
    return 'ok';
  } catch (err) {
    return `unavailable: ${err instanceof Error ? err.message : String(err)}`.slice(0, 200);
  } finally {
    clearTimeout(timer);
  }
}

/** The shared stores: sessions and login-throttle counters, in Redis when configured, else in memory. */
export interface SharedStores {
  sessions: SessionStore;
  attempts: AttemptCounter;
  revocations: RevocationList;
  /** Waits until the backend answers; throws UNAVAILABLE if it does not within `timeoutMs`. */
  ready(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export function openSharedStores(config: Config, logger: SecurityLogger): SharedStores {
  if (!config.redisUrl) {
    const sessions = new MemorySessionStore();
    const attempts = new MemoryAttemptCounter();
    const revocations = new MemoryRevocationList();
    return {
      sessions,
      attempts,
      revocations,
      ready: async () => undefined,
      close: async () => {
        await sessions.close();
        await attempts.close();
      },
    };
  }
  const redis = openRedis(config.redisUrl, throttledWarning(logger, 'Redis (sessions, login throttle)'));
  return {
    sessions: new RedisSessionStore(redis),
    attempts: new RedisAttemptCounter(redis),
    revocations: new RedisRevocationList(redis),
    ready: (timeoutMs) => redisReady(redis, timeoutMs),
    close: async () => {
      redis.disconnect();
    },
  };
}

export function openConfiguredRegistry(config: Config, logger: SecurityLogger): Promise<Registry> {
  return openRegistry({
    databaseUrl: config.databaseUrl,
    dataDir: resolve(config.dataDir),
    onBackendError: throttledWarning(logger, 'user registry (PostgreSQL)'),
  });
}

/**
 * The key-encryption key the configuration gives, checked; undefined when it may come from the
 * data directory instead (SQLite registry). Reads and writes nothing.
 */
export function configuredKeyEncryptionKey(config: Config): KeyEncryptionKey | undefined {
  if (config.tokens.keyEncryptionKey) {
    const kek = Buffer.from(config.tokens.keyEncryptionKey, 'base64');
    if (kek.length !== 32) throw new ConfigError('tokens.keyEncryptionKey (FLIGHTGATE_KEY_ENCRYPTION_KEY): expected base64 of 32 bytes, e.g. from: openssl rand -base64 32');
    return new KeyEncryptionKey(kek);
  }
  if (config.databaseUrl) {
    throw new ConfigError(
      'tokens.keyEncryptionKey (FLIGHTGATE_KEY_ENCRYPTION_KEY) is required with a PostgreSQL registry: every replica must decrypt the same signing keys. Generate one with: openssl rand -base64 32',
    );
  }
  return undefined;
}

/**
 * The key that encrypts signing keys at rest: from the configuration, or (embedded SQLite only)
 * a file next to the registry created on first start. Replicas sharing PostgreSQL must share it,
 * so there it has to be configured.
 */
export function keyEncryptionKey(config: Config): KeyEncryptionKey {
  const configured = configuredKeyEncryptionKey(config);
  if (configured) return configured;
  const file = join(resolve(config.dataDir), 'key-encryption.key');
  if (!existsSync(file)) {
    writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  }
  chmodSync(file, 0o600);
  return KeyEncryptionKey.fromBase64(readFileSync(file, 'utf8'));
}

const TICKET_KEY = 'ticket-hmac-key';

/**
 * The key that signs tickets, shared by the replicas through the registry and kept there
 * encrypted like the signing keys. A key stored in clear by an earlier version is encrypted in place.
 */
async function ticketKey(registry: Registry, kek: KeyEncryptionKey): Promise<Buffer> {
  const stored = await registry.secret(TICKET_KEY, () => kek.encrypt(randomBytes(32).toString('base64'), TICKET_KEY));
  if (stored.startsWith('v1.')) {
    try {
      return Buffer.from(kek.decrypt(stored, TICKET_KEY), 'base64');
    } catch {
      throw new ConfigError('the ticket key in the registry does not decrypt with this key-encryption key (tokens.keyEncryptionKey): every replica must use the same one');
    }
  }
  await registry.replaceSecret(TICKET_KEY, stored, kek.encrypt(stored, TICKET_KEY));
  return Buffer.from(stored, 'base64');
}

export interface SecurityOptions {
  /** Bearer token kinds besides sessions, API keys and JWTs (an embedding application's own tokens). */
  bearerKinds?: readonly BearerKind[];
  /** Wraps the audit log, e.g. to count its events as metrics; every component records through it. */
  observeAudit?: (audit: AuditSink) => AuditSink;
}

export async function buildSecurity(config: Config, logger: SecurityLogger, issuer: string, options: SecurityOptions = {}): Promise<Security> {
  const registry = await openConfiguredRegistry(config, logger);
  const shared = openSharedStores(config, logger);
  const sessionStore = shared.sessions;
  if (config.redisUrl) {
    await shared.ready().catch(() => logger.warn('Redis does not answer yet; calls get UNAVAILABLE until it does'));
  }
  const auditLog = new AuditLog(config.audit.file);
  const audit = options.observeAudit ? options.observeAudit(auditLog) : auditLog;
  const directory = new UserDirectory(registry, config.auth.registryCacheMs);
  const throttle = new LoginThrottle(config.auth.throttle, shared.attempts);
  const passwords = new PasswordLogin(directory, throttle, audit);
  const sessions = new SessionManager(sessionStore, directory, config.auth, audit);
  const kek = keyEncryptionKey(config);
  const keyRing = new SigningKeyRing(registry.signingKeys, kek, {
    algorithm: signingAlgorithm(config.tokens.signingAlgorithm),
    reloadMs: config.tokens.keyReloadSeconds * 1000,
    onReloadError: ((warn) => (err: unknown) => warn(err instanceof Error ? err : new Error(String(err))))(throttledWarning(logger, 'signing keys (registry)')),
  });
  await keyRing.start();
  const externals = config.oidc.issuers.map(
    (c) => new ExternalIssuer(c, (outcome, detail) => (outcome === 'failed' ? logger.warn(`keys of issuer ${c.issuer}: ${detail}`) : undefined)),
  );
  const jwt = new JwtBearerVerifier(
    { issuer, audience: config.tokens.audience, leewaySeconds: config.tokens.clockLeewaySeconds, keys: keyRing },
    externals,
    shared.revocations,
    config.tokens.verifiedCacheEntries,
  );
  const bearer = new BearerRouter([
    new SessionAuthenticator(sessions),
    new ApiKeyAuthenticator(registry.apiKeys, config.tokens.apiKeyCacheMs),
    new JwtAuthenticator(jwt),
    ...(options.bearerKinds ?? []),
  ]);
  const certificates = config.tls?.clientCaFile ? new CertificateAuthenticator(config.tls.clientPrincipals) : undefined;
  const gate = new AuthGate(sessions, passwords, audit, [new BasicAuthenticator(passwords), bearer], certificates);
  const grantUsers: GrantUsers = {
    verifyPassword: (user, password, peer) => passwords.verify(user, password, { rpc: 'HTTP /oauth2/token', peer }),
    current: async (name) => {
      const user = await directory.user(name);
      return user && !user.disabled ? user : undefined;
    },
  };
  const tokenService = new TokenService(
    {
      issuer: new AccessTokenIssuer(keyRing, issuer, config.tokens.audience, config.tokens.accessTokenLifetimeSeconds),
      clients: new ClientAuthenticator(new ClientDirectory(registry.clients, config.auth.registryCacheMs), config.auth.registryCacheMs),
      refresh: new RefreshTokens(
        registry.refreshTokens,
        config.tokens,
        (family) => audit.record({ event: 'token.reuse_detected', outcome: 'denied', principal: family.subject, client: family.clientId, reason: 'a rotated refresh token was presented again: its family is revoked' }),
        (family) => audit.record({ event: 'token.refresh_grace', outcome: 'ok', principal: family.subject, client: family.clientId, reason: 'a used refresh token was presented again within the grace period: a further successor was issued, the earlier ones stay valid' }),
      ),
      jwt,
      users: grantUsers,
      audit,
      passwordGrant: config.tokens.passwordGrant,
      publicClientId: PUBLIC_EXCHANGE_CLIENT,
      exchange: { refreshTokens: config.tokens.exchangeRefreshTokens, maxLifetimeSeconds: config.tokens.exchangeMaxLifetimeSeconds },
    },
    shared.revocations,
  );
  const limits = new UsageLimits(config.limits);
  const access = new SecuredAccess(gate, directory, audit, limits.enabled ? limits : undefined);
  const tickets = new TicketCodec(await ticketKey(registry, kek));

  if (config.demo) {
    const created = await seedDemoUsers(registry);
    const list = DEMO_USERS.map((u) => u.name).join(', ');
    // The passwords are in the README; even public ones stay out of logs.
    logger.warn(
      `DEMO MODE: the demo users ${list} exist in this registry with PUBLIC passwords (see the README)${created.length ? `; created now: ${created.join(', ')}` : ''}. Never expose a demo server.`,
    );
  } else if ((await registry.countUsers()) === 0) {
    logger.warn(
      'the user registry is empty, so nobody can log in. Create the first administrator:\n' +
        '  flightgate roles create admins\n' +
        "  flightgate roles grant admins --dataset '*' --action admin\n" +
        '  flightgate users add alice --role admins        (prompts for the password)\n' +
        `(with the same --data-dir${config.databaseUrl ? ' and FLIGHTGATE_DATABASE_URL' : ''} as the server)`,
    );
  }
  logger.info(`users and roles in ${registry.kind}; sessions and login throttle in ${sessionStore.kind}`);
  if (config.tokens.passwordGrant) logger.warn('the OAuth password grant is enabled (tokens.passwordGrant); RFC 9700 advises against it');
  const mappedRoles = config.tls?.clientPrincipals.flatMap((p) => p.roles) ?? [];
  if (externals.length || mappedRoles.length) {
    const known = new Set((await registry.listRoles()).map((r) => r.name));
    const missingMapped = [...new Set(mappedRoles)].filter((r) => !known.has(r));
    if (missingMapped.length) logger.warn(`tls.clientPrincipals names roles that do not exist: ${missingMapped.join(', ')} (create them with 'flightgate roles create')`);
    for (const e of externals) {
      logger.info(`accepting access tokens from ${e.issuer} (audience ${e.config.audience})`);
      const missing = [...new Set(Object.values(e.config.roleMap).flat())].filter((r) => !known.has(r));
      // A mapping to a role that does not exist grants nothing; say so rather than fail silently.
      if (missing.length) logger.warn(`oidc issuer ${e.issuer}: roleMap names roles that do not exist: ${missing.join(', ')} (create them with 'flightgate roles create')`);
    }
  }

  const readiness = async (): Promise<ReadinessReport> => {
    const [registryCheck, sharedCheck] = await Promise.all([
      probe(() => registry.countUsers()),
      probe(() => shared.ready(0)),
    ]);
    const checks = { registry: registryCheck, [config.redisUrl ? 'redis' : 'sessions']: sharedCheck };
    return { ready: Object.values(checks).every((c) => c === 'ok'), checks };
  };

  return {
    registry,
    sessionStore,
    audit,
    readiness,
    access,
    sessions,
    tickets,
    gate,
    tokenService,
    keyRing,
    issuer,
    async close() {
      keyRing.stop();
      await shared.close();
      await registry.close();
      await auditLog.close();
    },
  };
}
