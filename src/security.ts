/**
 * Wires authentication and authorization from the configuration: the registry (SQLite or
 * PostgreSQL), the session store (memory or Redis), the audit log, and the Flight access control
 * built on them. Part of the composition root; the only place these adapters are chosen.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { AuditLog } from './audit/audit-log.js';
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
  audit: AuditLog;
  access: SecuredAccess;
  sessions: SessionManager;
  tickets: TicketCodec;
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

/** The shared stores: sessions and login-throttle counters, in Redis when configured, else in memory. */
export interface SharedStores {
  sessions: SessionStore;
  attempts: AttemptCounter;
  /** Waits until the backend answers; throws UNAVAILABLE if it does not. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export function openSharedStores(config: Config, logger: SecurityLogger): SharedStores {
  if (!config.redisUrl) {
    const sessions = new MemorySessionStore();
    const attempts = new MemoryAttemptCounter();
    return {
      sessions,
      attempts,
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
    ready: () => redisReady(redis),
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

export async function buildSecurity(config: Config, logger: SecurityLogger): Promise<Security> {
  const registry = await openConfiguredRegistry(config, logger);
  const shared = openSharedStores(config, logger);
  const sessionStore = shared.sessions;
  if (config.redisUrl) {
    await shared.ready().catch(() => logger.warn('Redis does not answer yet; calls get UNAVAILABLE until it does'));
  }
  const audit = new AuditLog(config.audit.file);
  const directory = new UserDirectory(registry, config.auth.registryCacheMs);
  const throttle = new LoginThrottle(config.auth.throttle, shared.attempts);
  const passwords = new PasswordLogin(directory, throttle, audit);
  const sessions = new SessionManager(sessionStore, directory, config.auth, audit);
  const gate = new AuthGate(sessions, passwords, audit, [new BasicAuthenticator(passwords), new SessionAuthenticator(sessions)]);
  const access = new SecuredAccess(gate, directory, audit);
  const key = await registry.secret('ticket-hmac-key', () => randomBytes(32).toString('base64'));
  const tickets = new TicketCodec(Buffer.from(key, 'base64'));

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

  return {
    registry,
    sessionStore,
    audit,
    access,
    sessions,
    tickets,
    async close() {
      await shared.close();
      await registry.close();
      await audit.close();
    },
  };
}
