/**
 * Builds the configuration from, in rising precedence: defaults, a JSON or YAML config file,
 * `FLIGHTGATE_*` environment variables and explicit overrides (command-line flags).
 * Errors name the offending key and what it expects.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { configSchema, type Config, type ConfigInput } from './schema.js';
import { settingsOf, type Setting } from './setting-paths.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type EnvType = 'string' | 'number' | 'boolean';

/** Environment variable → dotted config key. */
export const ENV_KEYS: Readonly<Record<string, { key: string; type: EnvType }>> = {
  FLIGHTGATE_HOST: { key: 'host', type: 'string' },
  FLIGHTGATE_PORT: { key: 'port', type: 'number' },
  FLIGHTGATE_HTTP_PORT: { key: 'httpPort', type: 'number' },
  FLIGHTGATE_TOKEN_ISSUER: { key: 'tokens.issuer', type: 'string' },
  FLIGHTGATE_TOKEN_AUDIENCE: { key: 'tokens.audience', type: 'string' },
  FLIGHTGATE_KEY_ENCRYPTION_KEY: { key: 'tokens.keyEncryptionKey', type: 'string' },
  FLIGHTGATE_ACCESS_TOKEN_LIFETIME_SECONDS: { key: 'tokens.accessTokenLifetimeSeconds', type: 'number' },
  FLIGHTGATE_REFRESH_TOKEN_LIFETIME_SECONDS: { key: 'tokens.refreshTokenLifetimeSeconds', type: 'number' },
  FLIGHTGATE_REFRESH_REUSE_GRACE_SECONDS: { key: 'tokens.refreshReuseGraceSeconds', type: 'number' },
  FLIGHTGATE_SIGNING_ALGORITHM: { key: 'tokens.signingAlgorithm', type: 'string' },
  FLIGHTGATE_PASSWORD_GRANT: { key: 'tokens.passwordGrant', type: 'boolean' },
  FLIGHTGATE_TLS_CERT_FILE: { key: 'tls.certFile', type: 'string' },
  FLIGHTGATE_TLS_KEY_FILE: { key: 'tls.keyFile', type: 'string' },
  FLIGHTGATE_TLS_CLIENT_CA_FILE: { key: 'tls.clientCaFile', type: 'string' },
  FLIGHTGATE_TLS_CLIENT_CERTIFICATES: { key: 'tls.clientCertificates', type: 'string' },
  FLIGHTGATE_TLS_HTTP: { key: 'tls.http', type: 'boolean' },
  FLIGHTGATE_DATA_DIR: { key: 'dataDir', type: 'string' },
  FLIGHTGATE_DEMO: { key: 'demo', type: 'boolean' },
  FLIGHTGATE_ADVERTISED_URI: { key: 'advertisedUri', type: 'string' },
  FLIGHTGATE_TICKET_TTL_SECONDS: { key: 'ticketTtlSeconds', type: 'number' },
  FLIGHTGATE_DURABLE_WRITES: { key: 'durableWrites', type: 'boolean' },
  FLIGHTGATE_SHUTDOWN_GRACE_SECONDS: { key: 'shutdownGraceSeconds', type: 'number' },
  FLIGHTGATE_LOG_FORMAT: { key: 'logFormat', type: 'string' },
  FLIGHTGATE_DEMO_NUMBERS_ROWS: { key: 'demoNumbersRows', type: 'number' },
  FLIGHTGATE_DATABASE_URL: { key: 'databaseUrl', type: 'string' },
  FLIGHTGATE_REDIS_URL: { key: 'redisUrl', type: 'string' },
  FLIGHTGATE_AUDIT_FILE: { key: 'audit.file', type: 'string' },
  FLIGHTGATE_SESSION_LIFETIME_SECONDS: { key: 'auth.sessionLifetimeSeconds', type: 'number' },
  FLIGHTGATE_SESSION_IDLE_SECONDS: { key: 'auth.sessionIdleSeconds', type: 'number' },
  FLIGHTGATE_SESSION_ROTATE_AFTER: { key: 'auth.sessionRotateAfter', type: 'number' },
  FLIGHTGATE_SESSION_ROTATION_GRACE_SECONDS: { key: 'auth.sessionRotationGraceSeconds', type: 'number' },
  FLIGHTGATE_REGISTRY_CACHE_MS: { key: 'auth.registryCacheMs', type: 'number' },
  FLIGHTGATE_THROTTLE_FREE_FAILURES: { key: 'auth.throttle.freeFailures', type: 'number' },
  FLIGHTGATE_THROTTLE_LOCKOUT_FAILURES: { key: 'auth.throttle.lockoutFailures', type: 'number' },
  FLIGHTGATE_THROTTLE_LOCKOUT_SECONDS: { key: 'auth.throttle.lockoutSeconds', type: 'number' },
  FLIGHTGATE_THROTTLE_PEER_LOCKOUT_FAILURES: { key: 'auth.throttle.peerLockoutFailures', type: 'number' },
};

type Tree = Record<string, unknown>;
const isTree = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);

function setPath(tree: Tree, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let node = tree;
  for (const k of keys.slice(0, -1)) {
    if (!isTree(node[k])) node[k] = {};
    node = node[k] as Tree;
  }
  node[keys[keys.length - 1]!] = value;
}

/** Merges `over` into `base` key by key, so an env variable for `auth.x` keeps the file's `auth.y`. */
function deepMerge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    out[k] = isTree(v) && isTree(out[k]) ? deepMerge(out[k] as Tree, v) : v;
  }
  return out;
}

function parseEnvValue(name: string, raw: string, type: EnvType): unknown {
  if (type === 'string') return raw;
  if (type === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`${name}: expected a number, got ${JSON.stringify(raw)}`);
    return n;
  }
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name}: expected true or false, got ${JSON.stringify(raw)}`);
}

/** Every setting by its systematic variable name (FLIGHTGATE_ + path in upper snake case). */
export const SETTINGS: readonly Setting[] = settingsOf(configSchema);

function parseJsonEnv(name: string, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw new ConfigError(`${name}: expected JSON (a list or an object), got ${JSON.stringify(raw.slice(0, 60))}: ${(err as Error).message}`);
  }
}

/** FLIGHTGATE_ variables that are not settings: read by the test and benchmark tools, never by the server. */
const TOOL_VARIABLES = new Set(['FLIGHTGATE_PYTHON', 'FLIGHTGATE_URI']);

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * A misspelt variable would otherwise be ignored while an unknown key in a file is an error:
 * every FLIGHTGATE_ variable must be a setting, and the error names the closest one.
 */
function checkVariableNames(env: NodeJS.ProcessEnv): void {
  const known = [...SETTINGS.map((s) => s.env), ...Object.keys(ENV_KEYS)];
  const knownSet = new Set(known);
  const unknown = Object.keys(env).filter((n) => n.startsWith('FLIGHTGATE_') && !knownSet.has(n) && !TOOL_VARIABLES.has(n));
  if (unknown.length === 0) return;
  const lines = unknown.sort().map((name) => {
    let best = known[0]!;
    let distance = Infinity;
    for (const k of known) {
      const d = editDistance(name, k);
      if (d < distance) [best, distance] = [k, d];
    }
    return distance <= Math.max(3, Math.floor(name.length / 4)) ? `${name}: not a setting; did you mean ${best}?` : `${name}: not a setting`;
  });
  throw new ConfigError(`${lines.join('\n')}\n(every setting and its variable is in 'flightgate config example')`);
}

function fromEnv(env: NodeJS.ProcessEnv): Tree {
  checkVariableNames(env);
  const out: Tree = {};
  for (const s of SETTINGS) {
    const raw = env[s.env];
    if (raw === undefined || raw === '') continue;
    setPath(out, s.path, s.kind === 'json' ? parseJsonEnv(s.env, raw) : parseEnvValue(s.env, raw, s.kind));
  }
  // The short names, documented since before the systematic ones, win over them.
  for (const [name, { key, type }] of Object.entries(ENV_KEYS)) {
    const raw = env[name];
    if (raw !== undefined && raw !== '') setPath(out, key, parseEnvValue(name, raw, type));
  }
  return out;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const yaml = /\.ya?ml$/i.test(path);
  let parsed: unknown;
  if (yaml) {
    const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length) throw new ConfigError(`config file ${path} is not valid YAML: ${doc.errors[0]!.message}`);
    parsed = doc.toJS();
  } else {
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path} must hold a ${yaml ? 'mapping' : 'JSON object'} of settings`);
  }
  return parsed as Record<string, unknown>;
}

function describeIssues(error: z.ZodError, origin: string): string {
  return error.issues
    .map((i) => {
      const at = i.path.join('.');
      if (i.code === 'unrecognized_keys') {
        const keys = i.keys.map((k) => (at ? `${at}.${k}` : k));
        return `${origin}: unknown setting${keys.length > 1 ? 's' : ''} ${keys.join(', ')} (every setting is in 'flightgate config example')`;
      }
      if (i.code === 'invalid_type' && /received undefined/.test(i.message)) return `${origin}: ${at}: required (expected ${i.expected})`;
      return `${origin}: ${at || '(root)'}: ${i.message}`;
    })
    .join('\n');
}

export interface LoadOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: Partial<ConfigInput>;
}

export function loadConfig(options: LoadOptions = {}): Config {
  const fileValues = options.file ? readConfigFile(options.file) : {};
  const merged = deepMerge(deepMerge(fileValues, fromEnv(options.env ?? process.env)), stripUndefined(options.overrides ?? {}) as Tree);
  const result = configSchema.safeParse(merged);
  if (!result.success) throw new ConfigError(describeIssues(result.error, options.file ?? 'configuration'));
  return result.data;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
