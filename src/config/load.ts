/**
 * Builds the configuration from, in rising precedence: defaults, a JSON config file,
 * `FLIGHTGATE_*` environment variables and explicit overrides (command-line flags).
 * Errors name the offending key and what it expects.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { configSchema, type Config, type ConfigInput } from './schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const ENV_KEYS: Record<string, { key: keyof ConfigInput; type: 'string' | 'number' | 'boolean' }> = {
  FLIGHTGATE_HOST: { key: 'host', type: 'string' },
  FLIGHTGATE_PORT: { key: 'port', type: 'number' },
  FLIGHTGATE_DATA_DIR: { key: 'dataDir', type: 'string' },
  FLIGHTGATE_DEMO: { key: 'demo', type: 'boolean' },
  FLIGHTGATE_ADVERTISED_URI: { key: 'advertisedUri', type: 'string' },
  FLIGHTGATE_TICKET_TTL_SECONDS: { key: 'ticketTtlSeconds', type: 'number' },
  FLIGHTGATE_DURABLE_WRITES: { key: 'durableWrites', type: 'boolean' },
  FLIGHTGATE_SHUTDOWN_GRACE_SECONDS: { key: 'shutdownGraceSeconds', type: 'number' },
  FLIGHTGATE_DEMO_NUMBERS_ROWS: { key: 'demoNumbersRows', type: 'number' },
};

function parseEnvValue(name: string, raw: string, type: 'string' | 'number' | 'boolean'): unknown {
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

function fromEnv(env: NodeJS.ProcessEnv): Partial<Record<keyof ConfigInput, unknown>> {
  const out: Partial<Record<keyof ConfigInput, unknown>> = {};
  for (const [name, { key, type }] of Object.entries(ENV_KEYS)) {
    const raw = env[name];
    if (raw !== undefined) out[key] = parseEnvValue(name, raw, type);
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
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`config file ${path} is not a JSON object: ${(err as Error).message}`);
  }
}

function describeIssues(error: z.ZodError, origin: string): string {
  return error.issues
    .map((i) => {
      const key = i.path.length ? i.path.join('.') : '(root)';
      return `${origin}: ${key}: ${i.message}`;
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
  const merged = { ...fileValues, ...fromEnv(options.env ?? process.env), ...stripUndefined(options.overrides ?? {}) };
  const env = options.env ?? process.env;
  if (env.FLIGHTGATE_TLS_CERT_FILE || env.FLIGHTGATE_TLS_KEY_FILE) {
    (merged as Record<string, unknown>).tls = { certFile: env.FLIGHTGATE_TLS_CERT_FILE, keyFile: env.FLIGHTGATE_TLS_KEY_FILE };
  }
  const result = configSchema.safeParse(merged);
  if (!result.success) throw new ConfigError(describeIssues(result.error, options.file ?? 'configuration'));
  return result.data;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
