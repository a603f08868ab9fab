/**
 * Wires authentication and authorization from the configuration: the registry (SQLite or
 * PostgreSQL), the session store (memory or Redis), the audit log, and the Flight access control
 * built on them. Part of the composition root; the only place these adapters are chosen.
 */
import { resolve } from 'node:path';
import { ApiKeyAuthenticator } from './auth/api-key-authenticator.js';
import { BearerRouter, type BearerKind } from './auth/bearer-router.js';
import { JwtAuthenticator } from './auth/jwt-authenticator.js';
import { AccessTokenIssuer } from './tokens/access-token-issuer.js';
import { ClientAuthenticator } from './tokens/client-authentication.js';
import { ClientDirectory } from './tokens/client-directory.js';
import { ExternalIssuer } from './tokens/external-issuer.js';
import type { GrantUsers } from './tokens/grants/grant.js';
import { JwtBearerVerifier } from './tokens/jwt-bearer-verifier.js';
import { RefreshTokens } from './tokens/refresh-tokens.js';
import { SigningKeyRing, signingAlgorithm } from './tokens/signing-keys.js';
import { PUBLIC_EXCHANGE_CLIENT } from './tokens/token-response.js';
import { TokenService } from './tokens/token-service.js';
import { AuditLog, type AuditSink } from './audit/audit-log.js';
import type { ReadinessReport } from './core/readiness.js';
import { CertificateAuthenticator } from './auth/certificate-authenticator.js';
import { UsageLimits } from './authz/usage-limits.js';
import { WebSessions } from './auth/web-sessions.js';
import { DeviceFlow } from './tokens/device-flow.js';
import { AuthGate } from './auth/auth-gate.js';
import { BasicAuthenticator } from './auth/basic-authenticator.js';
import { PasswordLogin } from './auth/password-login.js';
import { SessionAuthenticator } from './auth/session-authenticator.js';
import { SessionManager } from './auth/sessions.js';
import { LoginThrottle } from './auth/throttle.js';
import { UserDirectory } from './auth/user-directory.js';
import type { Config } from './config/schema.js';
import { ConfigError } from './config/load.js';
import { configGrants } from './authz/config-grants.js';
import type { PolicyGrant } from './authz/policy.js';
import { PolicyError } from './core/read-policy.js';
import { SecuredAccess } from './flight/secured-access.js';
import { TicketCodec } from './flight/ticket.js';
import type { Registry } from './stores/registry.js';
import type { SessionStore } from './stores/session-store.js';
import { openRegistry } from './stores/sql/open.js';
import { openSharedStores, type SharedStores } from './stores/shared-stores.js';
import { throttledWarning } from './core/throttled-warning.js';
import { openKeyEncryptionKey, type KeyEncryptionKeySource } from './tokens/key-encryption.js';
import { ticketKey } from './tokens/ticket-key.js';
import { readinessOf } from './readiness.js';
import { reportRoleMappings, reportUsers } from './startup-checks.js';

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
  /** The external identity providers Flight accepts tokens of (browser sign-in uses those with a `login`). */
  externals: readonly ExternalIssuer[];
  /** Browser sessions after a sign-in. */
  webSessions: WebSessions;
  close(): Promise<void>;
}

export interface SecurityOptions {
  /** Bearer token kinds besides sessions, API keys and JWTs (an embedding application's own tokens). */
  bearerKinds?: readonly BearerKind[];
  /** Wraps the audit log, e.g. to count its events as metrics; every component records through it. */
  observeAudit?: (audit: AuditSink) => AuditSink;
}

/** The registry of users, roles, clients and keys the configuration names (SQLite in the data directory, or PostgreSQL). */
export function openConfiguredRegistry(config: Config, logger: SecurityLogger): Promise<Registry> {
  return openRegistry({ databaseUrl: config.databaseUrl, dataDir: resolve(config.dataDir), onBackendError: throttledWarning(logger.warn, 'user registry (PostgreSQL)') });
}

/** Sessions, throttle counters and revocations: in Redis when the configuration names one. */
export function openConfiguredSharedStores(config: Config, logger: SecurityLogger): SharedStores {
  return openSharedStores(config.redisUrl, throttledWarning(logger.warn, 'Redis (sessions, login throttle)'));
}

/** The key-encryption key the configuration gives, or the data directory's (embedded registry). */
export const keyEncryptionKeySource = (config: Config): KeyEncryptionKeySource => ({
  configured: config.tokens.keyEncryptionKey,
  sharedRegistry: config.databaseUrl !== undefined,
  dataDir: config.dataDir,
});

/** The config file's grants, or a ConfigError naming the one that is wrong. */
function declaredGrants(config: Config): PolicyGrant[] {
  try {
    return configGrants(config.grants);
  } catch (err) {
    if (err instanceof PolicyError) throw new ConfigError(err.message);
    throw err;
  }
}

export async function buildSecurity(config: Config, logger: SecurityLogger, issuer: string, options: SecurityOptions = {}): Promise<Security> {
  const registry = await openConfiguredRegistry(config, logger);
  const shared = openConfiguredSharedStores(config, logger);
  const sessionStore = shared.sessions;
  if (config.redisUrl) {
    await shared.ready().catch(() => logger.warn('Redis does not answer yet; calls get UNAVAILABLE until it does'));
  }
  const auditLog = new AuditLog(config.audit.file);
  const audit = options.observeAudit ? options.observeAudit(auditLog) : auditLog;
  const declared = declaredGrants(config);
  const grantSource = declared.length ? { grants: async () => [...(await registry.roles.grants()), ...declared] } : registry.roles;
  const directory = new UserDirectory(registry.users, grantSource, config.auth.registryCacheMs);
  const throttle = new LoginThrottle(config.auth.throttle, shared.attempts);
  const passwords = new PasswordLogin(directory, throttle, audit);
  const sessions = new SessionManager(sessionStore, directory, config.auth, audit);
  const kek = openKeyEncryptionKey(keyEncryptionKeySource(config));
  const keyRing = new SigningKeyRing(registry.signingKeys, kek, {
    algorithm: signingAlgorithm(config.tokens.signingAlgorithm),
    reloadMs: config.tokens.keyReloadSeconds * 1000,
    onReloadError: ((warn) => (err: unknown) => warn(err instanceof Error ? err : new Error(String(err))))(throttledWarning(logger.warn, 'signing keys (registry)')),
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
      // The device flow's approval happens on the web page, after a browser sign-in.
      ...(config.oidc.issuers.some((i) => i.login)
        ? { devices: new DeviceFlow(registry.deviceCodes, { base: issuer, lifetimeMs: config.web.deviceCodeSeconds * 1000, intervalMs: config.web.devicePollSeconds * 1000, maxPending: config.web.maxPendingDeviceCodes }) }
        : {}),
    },
    shared.revocations,
  );
  if (config.limits.sharedCallRate && !shared.callRate) throw new ConfigError('limits.sharedCallRate needs redisUrl: the replicas count the call rate in Redis');
  const limits = new UsageLimits(config.limits, Date.now, config.limits.sharedCallRate ? shared.callRate : undefined);
  const access = new SecuredAccess(gate, directory, audit, limits.enabled ? limits : undefined);
  const tickets = new TicketCodec(await ticketKey(registry.secrets, kek));

  await reportUsers(config, registry, logger);
  logger.info(`users and roles in ${registry.kind}; sessions and login throttle in ${sessionStore.kind}`);
  if (config.tokens.passwordGrant) logger.warn('the OAuth password grant is enabled (tokens.passwordGrant); RFC 9700 advises against it');
  await reportRoleMappings(config, registry, logger);
  const readiness = readinessOf({ registry: () => registry.users.count(), [config.redisUrl ? 'redis' : 'sessions']: () => shared.ready(0) });

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
    externals,
    webSessions: new WebSessions(sessionStore, tickets.derive('web csrf'), { lifetimeMs: config.web.sessionLifetimeSeconds * 1000, idleMs: config.web.sessionIdleSeconds * 1000 }),
    async close() {
      keyRing.stop();
      await shared.close();
      await registry.close();
      await auditLog.close();
    },
  };
}
