/** `flightgate config check|example`: validate a configuration file, or print a commented one. */
import { existsSync, readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { sourceFor } from '../catalog/file-sources.js';
import { fileSources } from '../catalog/sources/index.js';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { keyEncryptionKeySource } from '../security.js';
import { configuredKeyEncryptionKey } from '../tokens/key-encryption.js';
import { loadTls } from '../tls/tls-material.js';
import { UsageError } from './usage-error.js';

export const CONFIG_USAGE = `usage: flightgate config <check FILE | example>

  config check FILE   validate FILE (JSON, or YAML for .yaml/.yml) with the FLIGHTGATE_* environment
                      applied, as 'serve --config FILE' would: every setting's name and type, then the
                      files it names (TLS certificate, key and client CA; declared datasets) and the
                      key-encryption key; exit 0 when the server could start with it, 2 otherwise
  config example      print a commented YAML file with every setting and its default`;

/** The example shipped next to dist/ and src/ alike. */
const EXAMPLE = new URL('../../examples/flightgate.example.yaml', import.meta.url);

/** Problems only visible beyond the schema: files that must exist and be usable. */
function fileProblems(config: Config): string[] {
  const problems: string[] = [];
  const attempt = (f: () => void): void => {
    try {
      f();
    } catch (err) {
      problems.push(err instanceof ConfigError ? err.message : String(err));
    }
  };
  if (config.tls) attempt(() => loadTls(config.tls!));
  attempt(() => configuredKeyEncryptionKey(keyEncryptionKeySource(config)));
  for (const [i, d] of config.datasets.entries()) {
    const at = `datasets[${i}] (${JSON.stringify(d.name)})`;
    if (!sourceFor(fileSources, d.path, d.format)) {
      problems.push(`${at}.format: no reader for ${d.format ?? (extname(d.path) || 'extension-less')} files (formats: ${fileSources.flatMap((s) => s.extensions.map((e) => e.slice(1))).join(', ')})`);
    }
    if (!existsSync(resolve(d.path))) problems.push(`${at}.path: ${d.path} does not exist`);
  }
  return problems;
}

function summary(config: Config): string {
  const tls = config.tls ? (config.tls.clientCaFile ? `TLS with client certificates (${config.tls.clientCertificates}, ${config.tls.clientPrincipals.length} mapped)` : 'TLS') : 'plain text (no tls section)';
  return [
    `Flight on ${config.host}:${config.port}, HTTP on ${config.host}:${config.httpPort}, ${tls}`,
    `registry: ${config.databaseUrl ? 'PostgreSQL' : `SQLite in ${config.dataDir}`}; sessions: ${config.redisUrl ? 'Redis' : 'in this process'}`,
    `external token issuers: ${config.oidc.issuers.length}; demo: ${config.demo ? 'ON (public demo passwords)' : 'off'}`,
  ].join('\n');
}

export async function configCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  const [action, ...rest] = positionals;
  if (values.help || action === undefined) {
    console.log(CONFIG_USAGE);
    return values.help ? 0 : 2;
  }
  if (action === 'example') {
    if (rest.length) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
    process.stdout.write(readFileSync(EXAMPLE, 'utf8'));
    return 0;
  }
  if (action !== 'check') throw new UsageError(`unknown config command "${action}"\n${CONFIG_USAGE}`);
  if (rest.length !== 1) throw new UsageError(`config check takes one FILE\n${CONFIG_USAGE}`);
  const file = rest[0]!;
  const config = loadConfig({ file });
  const problems = fileProblems(config);
  if (problems.length) {
    for (const p of problems) console.error(`${file}: ${p}`);
    return 2;
  }
  console.log(`${file}: valid\n${summary(config)}`);
  return 0;
}
