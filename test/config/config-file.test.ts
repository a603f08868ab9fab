/** Configuration files: JSON and YAML, validation messages, and the example that must cover every setting. */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { ENV_KEYS, loadConfig, SETTINGS } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';
import { runCli } from '../helpers/cli-server.js';
import { ROOT } from '../helpers/python.js';
import { tempDir } from '../helpers/server.js';

const EXAMPLE = join(ROOT, 'examples', 'flightgate.example.yaml');

interface SchemaNode {
  _zod: { def: { type: string; innerType?: SchemaNode; shape?: Record<string, SchemaNode>; element?: SchemaNode } };
}

/** Every setting's dotted path (array elements as `[]`), read from the schema itself. */
function settingPaths(node: SchemaNode, prefix = ''): string[] {
  const def = node._zod.def;
  if (def.innerType) return settingPaths(def.innerType, prefix);
  if (def.type === 'array' && def.element) return settingPaths(def.element, `${prefix}[]`);
  if (def.type === 'object' && def.shape) {
    return Object.entries(def.shape).flatMap(([k, v]) => {
      const path = prefix ? `${prefix}.${k}` : k;
      const below = settingPaths(v, path);
      return below.length ? below : [path];
    });
  }
  return [];
}

/** The same paths as they occur in a parsed YAML document. */
function documentPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => documentPaths(v, `${prefix}[]`));
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    return Object.entries(value).flatMap(([k, v]) => {
      const path = prefix ? `${prefix}.${k}` : k;
      const below = documentPaths(v, path);
      return below.length ? below : [path];
    });
  }
  return [];
}

test('the example is valid and shows every setting and every FLIGHTGATE_ variable', () => {
  const text = readFileSync(EXAMPLE, 'utf8');
  const config = loadConfig({ file: EXAMPLE, env: {} });
  assert.equal(config.tls?.clientPrincipals[0]?.principal, 'svc-etl');
  // Commented-out settings count: uncomment them to compare paths.
  const shown = new Set(documentPaths(parse(text.replace(/^(\s*)# (\w+: )/gm, '$1$2'))));
  const all = settingPaths(configSchema as unknown as SchemaNode);
  assert.ok(all.length > 60, String(all.length));
  // A map setting (roleMap) shows as its entries.
  const missing = all.filter((p) => !shown.has(p) && ![...shown].some((s) => s.startsWith(`${p}.`)));
  assert.deepEqual(missing, [], `settings missing from ${EXAMPLE}`);
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  for (const name of Object.keys(ENV_KEYS)) {
    assert.ok(text.includes(name), `${name} is not in the example`);
    assert.ok(readme.includes(name), `${name} is not in the README`);
  }
});

test('YAML and JSON files give the same configuration; the environment overrides either', () => {
  const dir = tempDir('fg-config-');
  const settings = { port: 9001, auth: { throttle: { lockoutFailures: 7 } }, oidc: { issuers: [{ issuer: 'https://idp.example', audience: 'a' }] } };
  writeFileSync(join(dir, 'a.json'), JSON.stringify(settings));
  writeFileSync(join(dir, 'a.yaml'), 'port: 9001\nauth:\n  throttle:\n    lockoutFailures: 7   # comment\noidc:\n  issuers:\n    - issuer: https://idp.example\n      audience: a\n');
  const fromJson = loadConfig({ file: join(dir, 'a.json'), env: {} });
  const fromYaml = loadConfig({ file: join(dir, 'a.yaml'), env: {} });
  assert.deepEqual(fromYaml, fromJson);
  assert.equal(fromYaml.auth.throttle.freeFailures, 3);
  assert.equal(loadConfig({ file: join(dir, 'a.yaml'), env: { FLIGHTGATE_PORT: '9002' } }).port, 9002);
});

test('errors name the setting and what it expects', () => {
  const dir = tempDir('fg-config-');
  const write = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  assert.throws(() => loadConfig({ file: write('t.yaml', 'port: eighty\n'), env: {} }), /t\.yaml: port: Invalid input: expected number, received string/);
  assert.throws(() => loadConfig({ file: write('u.yaml', 'auth:\n  throtle: {}\n'), env: {} }), /unknown setting auth\.throtle \(every setting is in 'flightgate config example'\)/);
  assert.throws(() => loadConfig({ file: write('r.yaml', 'tls:\n  certFile: a.pem\n'), env: {} }), /tls\.keyFile: required \(expected string\)/);
  assert.throws(() => loadConfig({ file: write('d.yaml', 'port: 1\nport: 2\n'), env: {} }), /is not valid YAML: Map keys must be unique at line 2/);
  assert.throws(() => loadConfig({ file: write('l.yaml', '- a\n- b\n'), env: {} }), /must hold a mapping of settings/);
  assert.throws(() => loadConfig({ file: write('j.json', '{"port": 1,}'), env: {} }), /is not valid JSON/);
  assert.throws(() => loadConfig({ env: { FLIGHTGATE_PORT: 'x' } }), /FLIGHTGATE_PORT: expected a number, got "x"/);
  assert.throws(() => loadConfig({ env: { FLIGHTGATE_TLS_CLIENT_CERTIFICATES: 'always', FLIGHTGATE_TLS_CERT_FILE: 'c', FLIGHTGATE_TLS_KEY_FILE: 'k' } }), /tls\.clientCertificates: Invalid option: expected one of "optional"\|"required"/);
});

test('flightgate config example prints the example; config check says valid or lists every problem', async () => {
  const example = await runCli(['config', 'example']);
  assert.equal(example.code, 0);
  assert.equal(example.stdout, readFileSync(EXAMPLE, 'utf8'));

  const dir = tempDir('fg-config-');
  const certs = join(dir, 'certs');
  assert.equal((await runCli(['certs', 'dev', '--out', certs])).code, 0);
  const good = join(dir, 'good.yaml');
  writeFileSync(good, `tls:\n  certFile: ${certs}/server.pem\n  keyFile: ${certs}/server.key\n  clientCaFile: ${certs}/ca.pem\n  clientPrincipals:\n    - { subject: dev-client, roles: [r] }\n`);
  const ok = await runCli(['config', 'check', good], { FLIGHTGATE_DATABASE_URL: '' });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /good\.yaml: valid\nFlight on 127\.0\.0\.1:8815, HTTP on 127\.0\.0\.1:8080, TLS with client certificates \(optional, 1 mapped\)/);

  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, `databaseUrl: postgres://x@y/z\ntls:\n  certFile: ${certs}/server.pem\n  keyFile: ${certs}/ca.key\ndatasets:\n  - { name: t, path: ${dir}/nope.parquet }\n  - { name: s, path: ${dir}/sheet.xlsx }\n`);
  const r = await runCli(['config', 'check', bad]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /tls\.keyFile: .*ca\.key is not the key of the certificate in tls\.certFile/);
  assert.match(r.stderr, /tokens\.keyEncryptionKey .* is required with a PostgreSQL registry/);
  assert.match(r.stderr, /datasets\[0\] \("t"\)\.path: .*nope\.parquet does not exist/);
  // The formats come from the file readers, the one list of them.
  assert.match(r.stderr, /datasets\[1\] \("s"\)\.format: no reader for \.xlsx files \(formats: arrow, arrows, feather, ipc, parquet, csv\)/);

  const invalid = await runCli(['config', 'check', join(dir, 'missing.yaml')]);
  assert.equal(invalid.code, 2);
  assert.match(invalid.stderr, /cannot read config file .*missing\.yaml: ENOENT/);
});

test('every setting has a FLIGHTGATE_ variable named after its path; lists and maps take JSON', () => {
  // Each setting, down to those inside lists, is reachable through one variable.
  for (const p of settingPaths(configSchema as unknown as SchemaNode)) {
    assert.ok(SETTINGS.some((s) => p === s.path || p.startsWith(`${s.path}[]`) || p.startsWith(`${s.path}.`)), `no variable for ${p}`);
  }
  const env = {
    FLIGHTGATE_LIMITS_CALLS_PER_SECOND: '50',
    FLIGHTGATE_TRANSPORT_IDLE_TIMEOUT_SECONDS: '0',
    FLIGHTGATE_AUTH_THROTTLE_MAX_DELAY_MS: '900',
    FLIGHTGATE_TOKENS_PASSWORD_GRANT: 'yes',
    FLIGHTGATE_TLS_CERT_FILE: 'c.pem',
    FLIGHTGATE_TLS_KEY_FILE: 'k.pem',
    FLIGHTGATE_TLS_CLIENT_CA_FILE: 'ca.pem',
    FLIGHTGATE_TLS_CLIENT_PRINCIPALS: '[{"subject":"etl-job","roles":["etl"]}]',
    FLIGHTGATE_OIDC_ISSUERS: '[{"issuer":"https://idp.example","audience":"api://fg","roleMap":{"g":["r"]}}]',
  };
  const c = loadConfig({ env });
  assert.equal(c.limits.callsPerSecond, 50);
  assert.equal(c.transport.idleTimeoutSeconds, 0);
  assert.equal(c.auth.throttle.maxDelayMs, 900);
  assert.equal(c.tokens.passwordGrant, true);
  assert.deepEqual(c.tls?.clientPrincipals, [{ subject: 'etl-job', roles: ['etl'] }]);
  assert.deepEqual(c.oidc.issuers[0]?.roleMap, { g: ['r'] });
  // The short names documented earlier win over the systematic ones.
  assert.equal(loadConfig({ env: { FLIGHTGATE_TOKEN_ISSUER: 'https://a.example', FLIGHTGATE_TOKENS_ISSUER: 'https://b.example' } }).tokens.issuer, 'https://a.example');
  assert.throws(() => loadConfig({ env: { FLIGHTGATE_OIDC_ISSUERS: '[{' } }), /FLIGHTGATE_OIDC_ISSUERS: expected JSON \(a list or an object\)/);
  assert.throws(() => loadConfig({ env: { FLIGHTGATE_LIMITS_CALL_BURST: 'lots' } }), /FLIGHTGATE_LIMITS_CALL_BURST: expected a number, got "lots"/);
  assert.throws(() => loadConfig({ env: { FLIGHTGATE_LIMITS_CALLS_PER_SECOND: '-1' } }), /limits\.callsPerSecond: Too small/);
});
