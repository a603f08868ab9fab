/**
 * Unit tests for the small token modules: the ticket key and its encryption at rest, scopes,
 * form parameters, the verified-token cache, the token-response vocabulary and the claim checks.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError } from '../../src/config/load.js';
import { GRANT_TOKEN_EXCHANGE as VOCABULARY_TOKEN_EXCHANGE } from '../../src/core/vocabulary.js';
import type { SecretStore } from '../../src/stores/secret-store.js';
import { parseFormParams } from '../../src/tokens/form-params.js';
import { checkClaims, type ClaimRules } from '../../src/tokens/jwt-claims.js';
import { configuredKeyEncryptionKey, KeyEncryptionKey, openKeyEncryptionKey } from '../../src/tokens/key-encryption.js';
import { OAuthError, type OAuthErrorCode } from '../../src/tokens/oauth-error.js';
import { grantScope } from '../../src/tokens/scope.js';
import { ticketKey } from '../../src/tokens/ticket-key.js';
import { TokenError } from '../../src/tokens/token-error.js';
import {
  GRANT_TOKEN_EXCHANGE,
  PUBLIC_EXCHANGE_CLIENT,
  TOKEN_TYPE_ACCESS,
  TOKEN_TYPE_JWT,
  type TokenResponse,
} from '../../src/tokens/token-response.js';
import { VerifiedTokenCache } from '../../src/tokens/verified-token-cache.js';

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** The registry name and AAD of the ticket key: changing it would orphan every deployed key. */
const TICKET_KEY = 'ticket-hmac-key';

/**
 * An in-memory SecretStore. `get` inserts only if absent (first writer wins); `replace` writes
 * only if the value is still `expected`. With `eagerCreate`, every caller computes its candidate
 * before the insert (as `INSERT … ON CONFLICT DO NOTHING; SELECT` would), so racing callers each
 * produce a different candidate and only the first one is kept.
 */
class FakeSecretStore implements SecretStore {
  readonly values = new Map<string, string>();
  creates = 0;
  inserts = 0;
  replaces = 0;
  replaceAttempts = 0;

  constructor(private readonly eagerCreate = false) {}

  async get(name: string, create: () => string): Promise<string> {
    let candidate: string | undefined;
    if (this.eagerCreate) {
      candidate = create();
      this.creates++;
    }
    await new Promise<void>((r) => setImmediate(r)); // let racing callers interleave
    if (!this.values.has(name)) {
      if (candidate === undefined) {
        candidate = create();
        this.creates++;
      }
      this.values.set(name, candidate);
      this.inserts++;
    }
    return this.values.get(name)!;
  }

  async replace(name: string, expected: string, value: string): Promise<void> {
    this.replaceAttempts++;
    await new Promise<void>((r) => setImmediate(r));
    if (this.values.get(name) === expected) {
      this.values.set(name, value);
      this.replaces++;
    }
  }
}

const newKek = (): KeyEncryptionKey =>
  openKeyEncryptionKey({ configured: randomBytes(32).toString('base64'), sharedRegistry: true, dataDir: '/nonexistent-flightgate-dir' });

const isOAuthError = (code: OAuthErrorCode, pattern: RegExp) => (err: unknown): boolean => {
  assert.ok(err instanceof OAuthError, `expected an OAuthError, got ${String(err)}`);
  assert.equal(err.error, code);
  assert.equal(err.status, 400);
  assert.match(err.description, pattern);
  return true;
};

const isInvalidToken = (pattern: RegExp) => (err: unknown): boolean => {
  assert.ok(err instanceof TokenError, `expected a TokenError, got ${String(err)}`);
  assert.equal(err.code, 'invalid');
  assert.match(err.message, pattern);
  return true;
};

// ---------------------------------------------------------------------------------------------
// key-encryption.ts
// ---------------------------------------------------------------------------------------------

describe('KeyEncryptionKey', () => {
  test('round-trips text, and each encryption is fresh (random IV)', () => {
    const kek = newKek();
    const a = kek.encrypt('secret text', 'aad');
    const b = kek.encrypt('secret text', 'aad');
    assert.match(a, /^v1\.[A-Za-z0-9_-]+$/);
    assert.notEqual(a, b);
    assert.equal(kek.decrypt(a, 'aad'), 'secret text');
    assert.equal(kek.decrypt(b, 'aad'), 'secret text');
  });

  test('refuses another key, another aad, altered ciphertext and unknown formats', () => {
    const kek = newKek();
    const text = kek.encrypt('secret text', 'row-1');
    assert.throws(() => newKek().decrypt(text, 'row-1'));
    assert.throws(() => kek.decrypt(text, 'row-2'));
    const raw = Buffer.from(text.slice(3), 'base64url');
    raw[raw.length - 20] ^= 1;
    assert.throws(() => kek.decrypt(`v1.${raw.toString('base64url')}`, 'row-1'));
    assert.throws(() => kek.decrypt(text.replace(/^v1\./, 'v2.'), 'row-1'), /unknown encrypted key format/);
    assert.throws(() => kek.decrypt('v1.', 'row-1'), /unknown encrypted key format/);
    assert.throws(() => kek.decrypt('plain', 'row-1'), /unknown encrypted key format/);
  });

  test('the constructor and fromBase64 take exactly 32 bytes', () => {
    assert.throws(() => new KeyEncryptionKey(new Uint8Array(31)), /32 bytes \(got 31\)/);
    assert.throws(() => new KeyEncryptionKey(new Uint8Array(33)), /32 bytes \(got 33\)/);
    const bytes = randomBytes(32);
    const fromB64 = KeyEncryptionKey.fromBase64(`  ${bytes.toString('base64')}\n`);
    assert.equal(new KeyEncryptionKey(bytes).decrypt(fromB64.encrypt('x', 'a'), 'a'), 'x');
  });

  test('configuredKeyEncryptionKey: a bad configured key and a missing shared key are ConfigErrors naming tokens.keyEncryptionKey', () => {
    for (const configured of [randomBytes(16).toString('base64'), randomBytes(33).toString('base64')]) {
      assert.throws(
        () => configuredKeyEncryptionKey({ configured, sharedRegistry: false, dataDir: '.' }),
        (err: unknown) => err instanceof ConfigError && /tokens\.keyEncryptionKey/.test(err.message) && /32 bytes/.test(err.message),
      );
    }
    assert.throws(
      () => configuredKeyEncryptionKey({ sharedRegistry: true, dataDir: '.' }),
      (err: unknown) => err instanceof ConfigError && /tokens\.keyEncryptionKey/.test(err.message) && /PostgreSQL/.test(err.message),
    );
    assert.equal(configuredKeyEncryptionKey({ sharedRegistry: false, dataDir: '.' }), undefined);
    const bytes = randomBytes(32);
    const kek = configuredKeyEncryptionKey({ configured: bytes.toString('base64'), sharedRegistry: true, dataDir: '.' });
    assert.ok(kek instanceof KeyEncryptionKey);
    assert.equal(new KeyEncryptionKey(bytes).decrypt(kek.encrypt('x', 'a'), 'a'), 'x', 'the configured bytes are the key');
  });

  test('openKeyEncryptionKey without a configured key creates a 0600 file once and reuses it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-kek-'));
    try {
      const first = openKeyEncryptionKey({ sharedRegistry: false, dataDir: dir });
      const file = join(dir, 'key-encryption.key');
      const content = readFileSync(file, 'utf8');
      assert.equal(Buffer.from(content.trim(), 'base64').length, 32);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const second = openKeyEncryptionKey({ sharedRegistry: false, dataDir: dir });
      assert.equal(readFileSync(file, 'utf8'), content, 'the file is not rewritten');
      assert.equal(second.decrypt(first.encrypt('x', 'a'), 'a'), 'x');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// ticket-key.ts
// ---------------------------------------------------------------------------------------------

describe('ticketKey', () => {
  test('creates a 32-byte key once; a second call returns the same key', async () => {
    const store = new FakeSecretStore();
    const kek = newKek();
    const k1 = await ticketKey(store, kek);
    const k2 = await ticketKey(store, kek);
    assert.equal(k1.length, 32);
    assert.deepEqual(k2, k1);
    assert.equal(store.creates, 1);
    assert.equal(store.inserts, 1);
    assert.equal(store.replaces, 0, 'an encrypted key is not rewritten');
    assert.deepEqual([...store.values.keys()], [TICKET_KEY]);
  });

  test('two keys created in two stores differ', async () => {
    const kek = newKek();
    const a = await ticketKey(new FakeSecretStore(), kek);
    const b = await ticketKey(new FakeSecretStore(), kek);
    assert.notDeepEqual(a, b);
  });

  test('10 concurrent calls return the same key, even when every caller made its own candidate', async () => {
    for (const eager of [false, true]) {
      const store = new FakeSecretStore(eager);
      const kek = newKek();
      const keys = await Promise.all(Array.from({ length: 10 }, () => ticketKey(store, kek)));
      assert.equal(store.inserts, 1, `eager=${eager}`);
      if (eager) assert.equal(store.creates, 10, 'each racer made a candidate');
      else assert.equal(store.creates, 1);
      for (const k of keys) {
        assert.equal(k.length, 32);
        assert.deepEqual(k, keys[0], `eager=${eager}`);
      }
      // And it is the key that was stored, not one of the discarded candidates.
      assert.deepEqual(Buffer.from(kek.decrypt(store.values.get(TICKET_KEY)!, TICKET_KEY), 'base64'), keys[0]);
      assert.equal(store.replaces, 0);
    }
  });

  test('the stored key is encrypted: v1., no base64 of the key, bound to the ticket-key name', async () => {
    const store = new FakeSecretStore();
    const kek = newKek();
    const key = await ticketKey(store, kek);
    const stored = store.values.get(TICKET_KEY)!;
    assert.ok(stored.startsWith('v1.'), stored);
    for (const encoding of ['base64', 'base64url', 'hex'] as const) {
      assert.ok(!stored.includes(key.toString(encoding)), `stored value contains the ${encoding} key`);
    }
    assert.deepEqual(Buffer.from(kek.decrypt(stored, TICKET_KEY), 'base64'), key);
    assert.throws(() => kek.decrypt(stored, 'some-other-secret'), 'the name is authenticated data');
  });

  test('a legacy cleartext key is returned as-is and replaced in the store by its encrypted form', async () => {
    const store = new FakeSecretStore();
    const legacy = randomBytes(32);
    store.values.set(TICKET_KEY, legacy.toString('base64'));
    const kek = newKek();
    const key = await ticketKey(store, kek);
    assert.deepEqual(key, legacy);
    assert.equal(store.creates, 0, 'an existing key is never regenerated');
    assert.equal(store.replaces, 1);
    const stored = store.values.get(TICKET_KEY)!;
    assert.ok(stored.startsWith('v1.'));
    assert.ok(!stored.includes(legacy.toString('base64')));
    assert.equal(kek.decrypt(stored, TICKET_KEY), legacy.toString('base64'));
    // The next start reads the encrypted form and gets the same key without another rewrite.
    assert.deepEqual(await ticketKey(store, kek), legacy);
    assert.equal(store.replaces, 1);
    assert.equal(store.replaceAttempts, 1);
  });

  test('replicas migrating a legacy key concurrently agree: one replace wins, the key is unchanged', async () => {
    const store = new FakeSecretStore();
    const legacy = randomBytes(32);
    store.values.set(TICKET_KEY, legacy.toString('base64'));
    const kek = newKek();
    const keys = await Promise.all(Array.from({ length: 5 }, () => ticketKey(store, kek)));
    for (const k of keys) assert.deepEqual(k, legacy);
    assert.equal(store.replaces, 1, 'only the first replace matched the expected cleartext');
    assert.equal(kek.decrypt(store.values.get(TICKET_KEY)!, TICKET_KEY), legacy.toString('base64'));
  });

  test('a key encrypted under another key-encryption key is a ConfigError naming tokens.keyEncryptionKey, and the store is untouched', async () => {
    const store = new FakeSecretStore();
    await ticketKey(store, newKek());
    const before = store.values.get(TICKET_KEY);
    await assert.rejects(ticketKey(store, newKek()), (err: unknown) => {
      assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
      assert.equal(err.name, 'ConfigError');
      assert.match(err.message, /tokens\.keyEncryptionKey/);
      return true;
    });
    assert.equal(store.values.get(TICKET_KEY), before);
    assert.equal(store.replaceAttempts, 0);
  });

  test('a corrupted encrypted key is refused the same way, not used', async () => {
    const store = new FakeSecretStore();
    const kek = newKek();
    await ticketKey(store, kek);
    const raw = Buffer.from(store.values.get(TICKET_KEY)!.slice(3), 'base64url');
    raw[15] ^= 0x80;
    store.values.set(TICKET_KEY, `v1.${raw.toString('base64url')}`);
    await assert.rejects(ticketKey(store, kek), (err: unknown) => err instanceof ConfigError && /tokens\.keyEncryptionKey/.test(err.message));
  });
  test('a key of the wrong length, in clear or encrypted, is refused rather than used to sign tickets', async () => {
    const kek = newKek();
    for (const bad of ['', 'not base64!!', randomBytes(16).toString('base64')]) {
      const clear = new FakeSecretStore();
      clear.values.set(TICKET_KEY, bad);
      await assert.rejects(ticketKey(clear, kek), (err: unknown) => err instanceof ConfigError && /not 32/.test(err.message), JSON.stringify(bad));
      assert.equal(clear.values.get(TICKET_KEY), bad, 'a refused key is not encrypted in place');
      const sealed = new FakeSecretStore();
      sealed.values.set(TICKET_KEY, kek.encrypt(bad, TICKET_KEY));
      await assert.rejects(ticketKey(sealed, kek), (err: unknown) => err instanceof ConfigError && /not 32/.test(err.message), JSON.stringify(bad));
    }
  });
});

// ---------------------------------------------------------------------------------------------
// scope.ts
// ---------------------------------------------------------------------------------------------

describe('grantScope', () => {
  const allowed = ['read', 'write', 'admin:all'];

  test('nothing asked (undefined, empty, blanks) grants everything allowed, in the allowed order', () => {
    assert.equal(grantScope(undefined, allowed), 'read write admin:all');
    assert.equal(grantScope('', allowed), 'read write admin:all');
    assert.equal(grantScope('   ', allowed), 'read write admin:all');
    assert.equal(grantScope(undefined, []), '');
  });

  test('an allowed subset is granted as asked, in the order asked', () => {
    assert.equal(grantScope('read', allowed), 'read');
    assert.equal(grantScope('write read', allowed), 'write read');
    assert.equal(grantScope('admin:all read write', allowed), 'admin:all read write');
  });

  test('duplicates and extra spaces collapse', () => {
    assert.equal(grantScope('read read write read', allowed), 'read write');
    assert.equal(grantScope('  read   write ', allowed), 'read write');
  });

  test('a scope that is not allowed is invalid_scope (400) naming it; matching is exact and case-sensitive', () => {
    assert.throws(() => grantScope('read delete', allowed), isOAuthError('invalid_scope', /"delete" is not allowed/));
    assert.throws(() => grantScope('Read', allowed), isOAuthError('invalid_scope', /"Read" is not allowed/));
    assert.throws(() => grantScope('admin', allowed), isOAuthError('invalid_scope', /"admin" is not allowed/));
    assert.throws(() => grantScope('read', []), isOAuthError('invalid_scope', /"read" is not allowed/));
  });

  test('a very long refused scope is cut to 64 characters in the message', () => {
    const long = 'x'.repeat(10_000);
    assert.throws(() => grantScope(long, allowed), (err: unknown) => {
      assert.ok(err instanceof OAuthError);
      assert.equal(err.error, 'invalid_scope');
      assert.ok(err.description.includes(`"${'x'.repeat(64)}"`));
      assert.ok(!err.description.includes('x'.repeat(65)));
      return true;
    });
  });

  test('characters outside RFC 6749 scope-token syntax are malformed, even if the client lists them', () => {
    for (const bad of ['a"b', 'a\\b', 'a\tb', 'read\nwrite', 'caf\u00e9', 'a\u0000b', 'a\u007fb']) {
      assert.throws(() => grantScope(bad, [...allowed, bad]), isOAuthError('invalid_scope', /^malformed scope$/), JSON.stringify(bad));
    }
    // The edges of the allowed ranges are fine.
    const edges = ['!', '#', '[', ']', '~'];
    assert.equal(grantScope(edges.join(' '), edges), '! # [ ] ~');
  });
});

// ---------------------------------------------------------------------------------------------
// form-params.ts
// ---------------------------------------------------------------------------------------------

describe('parseFormParams', () => {
  test('decodes an urlencoded body', () => {
    const p = parseFormParams('grant_type=client_credentials&scope=read+write%20admin%3Aall&client_id=caf%C3%A9');
    assert.equal(p.size, 3);
    assert.equal(p.get('grant_type'), 'client_credentials');
    assert.equal(p.get('scope'), 'read write admin:all');
    assert.equal(p.get('client_id'), 'café');
    assert.equal(p.get('missing'), undefined);
  });

  test('empty bodies and bare names', () => {
    assert.equal(parseFormParams('').size, 0);
    assert.equal(parseFormParams('&&').size, 0);
    const p = parseFormParams('a&b=&c==');
    assert.equal(p.get('a'), '');
    assert.equal(p.get('b'), '');
    assert.equal(p.get('c'), '=');
  });

  test('names are case-sensitive: A and a are different parameters', () => {
    const p = parseFormParams('A=1&a=2');
    assert.equal(p.get('A'), '1');
    assert.equal(p.get('a'), '2');
  });

  test('a parameter given twice is invalid_request (400) naming it, whatever the values', () => {
    for (const body of ['scope=a&scope=b', 'scope=a&scope=a', 'scope=&scope=', 'scope&scope', 'x=1&scope=a&y=2&scope=b']) {
      assert.throws(() => parseFormParams(body), isOAuthError('invalid_request', /parameter "scope" given more than once/), body);
    }
  });

  test('duplicates are found after decoding the names', () => {
    assert.throws(() => parseFormParams('scope=a&sc%6Fpe=b'), isOAuthError('invalid_request', /"scope" given more than once/));
    assert.throws(() => parseFormParams('my+name=a&my%20name=b'), isOAuthError('invalid_request', /"my name" given more than once/));
  });

  test('a long duplicated name is cut to 64 characters in the message', () => {
    const name = 'n'.repeat(1000);
    assert.throws(() => parseFormParams(`${name}=1&${name}=2`), (err: unknown) => {
      assert.ok(err instanceof OAuthError);
      assert.equal(err.error, 'invalid_request');
      assert.ok(err.description.includes(`"${'n'.repeat(64)}"`));
      assert.ok(!err.description.includes('n'.repeat(65)));
      return true;
    });
  });
});

// ---------------------------------------------------------------------------------------------
// verified-token-cache.ts
// ---------------------------------------------------------------------------------------------

describe('VerifiedTokenCache', () => {
  test('a miss is undefined; a hit returns the stored value', () => {
    let now = 1_000;
    const cache = new VerifiedTokenCache<{ sub: string }>(10, () => now);
    assert.equal(cache.get('t'), undefined);
    const value = { sub: 'alice' };
    cache.set('t', value, 2_000);
    assert.equal(cache.get('t'), value);
    assert.equal(cache.get('other'), undefined);
    assert.equal(cache.size, 1);
    now = 1_999;
    assert.equal(cache.get('t'), value);
  });

  test('an entry is served until one millisecond before untilMs, gone at untilMs, and dropped when found expired', () => {
    let now = 0;
    const cache = new VerifiedTokenCache<string>(10, () => now);
    cache.set('t', 'v', 5_000);
    cache.set('u', 'w', 9_000);
    now = 4_999;
    assert.equal(cache.get('t'), 'v');
    now = 5_000;
    assert.equal(cache.get('t'), undefined);
    assert.equal(cache.size, 1, 'the expired entry was removed');
    // Going back in time does not bring it back.
    now = 0;
    assert.equal(cache.get('t'), undefined);
    assert.equal(cache.get('u'), 'w');
  });

  test('an entry set already expired is never served', () => {
    const cache = new VerifiedTokenCache<string>(10, () => 10_000);
    cache.set('t', 'v', 10_000);
    cache.set('u', 'v', 9_999);
    assert.equal(cache.get('t'), undefined);
    assert.equal(cache.get('u'), undefined);
    assert.equal(cache.size, 0);
  });

  test('the default clock is Date.now', () => {
    const cache = new VerifiedTokenCache<string>(10);
    cache.set('live', 'v', Date.now() + 60_000);
    cache.set('dead', 'v', Date.now() - 1);
    assert.equal(cache.get('live'), 'v');
    assert.equal(cache.get('dead'), undefined);
  });

  test('at capacity the oldest insertion is evicted; a get does not make an entry younger', () => {
    const cache = new VerifiedTokenCache<number>(2, () => 0);
    cache.set('a', 1, 1_000);
    cache.set('b', 2, 1_000);
    assert.equal(cache.get('a'), 1);
    cache.set('c', 3, 1_000);
    assert.equal(cache.size, 2);
    assert.equal(cache.get('a'), undefined, 'a was inserted first');
    assert.equal(cache.get('b'), 2);
    assert.equal(cache.get('c'), 3);
    cache.set('d', 4, 1_000);
    assert.equal(cache.get('b'), undefined);
    assert.deepEqual([cache.get('c'), cache.get('d')], [3, 4]);
  });

  test('setting a token again replaces its value and expiry', () => {
    let now = 0;
    const cache = new VerifiedTokenCache<string>(10, () => now);
    cache.set('t', 'old', 1_000);
    cache.set('t', 'new', 5_000);
    assert.equal(cache.size, 1);
    assert.equal(cache.get('t'), 'new');
    now = 2_000;
    assert.equal(cache.get('t'), 'new', 'the later expiry applies');
  });

  test('a cache of zero (or fewer) entries stores nothing', () => {
    for (const max of [0, -1]) {
      const cache = new VerifiedTokenCache<string>(max, () => 0);
      cache.set('t', 'v', 1_000);
      assert.equal(cache.size, 0);
      assert.equal(cache.get('t'), undefined);
    }
  });

  test('delete removes one entry; deleting a missing one is harmless', () => {
    const cache = new VerifiedTokenCache<string>(10, () => 0);
    cache.set('t', 'v', 1_000);
    cache.set('u', 'w', 1_000);
    cache.delete('t');
    cache.delete('never-set');
    assert.equal(cache.get('t'), undefined);
    assert.equal(cache.get('u'), 'w');
    assert.equal(cache.size, 1);
  });
});

// ---------------------------------------------------------------------------------------------
// token-response.ts
// ---------------------------------------------------------------------------------------------

describe('token-response vocabulary', () => {
  test('the token type and grant URNs are the RFC 8693 ones', () => {
    assert.equal(TOKEN_TYPE_ACCESS, 'urn:ietf:params:oauth:token-type:access_token');
    assert.equal(TOKEN_TYPE_JWT, 'urn:ietf:params:oauth:token-type:jwt');
    assert.equal(GRANT_TOKEN_EXCHANGE, 'urn:ietf:params:oauth:grant-type:token-exchange');
    assert.equal(GRANT_TOKEN_EXCHANGE, VOCABULARY_TOKEN_EXCHANGE, 're-exported from the shared vocabulary');
    assert.equal(PUBLIC_EXCHANGE_CLIENT, 'flightgate-token-exchange');
  });

  test('a TokenResponse serialises to the RFC 6749 §5.1 member names', () => {
    const response: TokenResponse = { access_token: 'at', token_type: 'Bearer', expires_in: 300, scope: 'read', issued_token_type: TOKEN_TYPE_ACCESS };
    assert.deepEqual(JSON.parse(JSON.stringify(response)), {
      access_token: 'at',
      token_type: 'Bearer',
      expires_in: 300,
      scope: 'read',
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    });
  });
});

// ---------------------------------------------------------------------------------------------
// jwt-claims.ts (complements the cases in jws.test.ts)
// ---------------------------------------------------------------------------------------------

describe('checkClaims', () => {
  const now = 1_700_000_000;
  const rules: ClaimRules = { issuer: 'https://idp.example', audience: 'api', leewaySeconds: 30 };
  const strict: ClaimRules = { ...rules, leewaySeconds: 0 };
  const base = { iss: 'https://idp.example', sub: 'alice', aud: 'api', exp: now + 60 };

  test('returns the payload itself, other claims included', () => {
    const payload = { ...base, iat: now, jti: 'id-1', scope: 'read', act: { sub: 'svc' } };
    const out = checkClaims(payload, rules, now);
    assert.equal(out, payload);
    assert.equal(out.scope, 'read');
    assert.deepEqual(out.act, { sub: 'svc' });
  });

  test('exp boundaries with and without leeway', () => {
    assert.equal(checkClaims({ ...base, exp: now + 1 }, strict, now).sub, 'alice');
    assert.throws(() => checkClaims({ ...base, exp: now - 1 }, strict, now), isInvalidToken(/expired/));
    assert.equal(checkClaims({ ...base, exp: now - 29 }, rules, now).sub, 'alice');
    assert.throws(() => checkClaims({ ...base, exp: now - 31 }, rules, now), isInvalidToken(/expired/));
    // Fractional NumericDates are allowed (RFC 7519 §2).
    assert.equal(checkClaims({ ...base, exp: now + 0.5 }, strict, now).sub, 'alice');
    assert.throws(() => checkClaims({ ...base, exp: now - 0.5 }, strict, now), isInvalidToken(/expired/));
    // Valid only before exp (RFC 7519 §4.1.4): at exp itself, and at exp + leeway, it is over.
    assert.throws(() => checkClaims({ ...base, exp: now }, strict, now), isInvalidToken(/expired/));
    assert.throws(() => checkClaims({ ...base, exp: now - 30 }, rules, now), isInvalidToken(/expired/));
  });

  test('exp must be a finite number', () => {
    for (const exp of [Number.POSITIVE_INFINITY, Number.NaN, null, true, [now + 60], { n: now + 60 }]) {
      assert.throws(() => checkClaims({ ...base, exp }, rules, now), isInvalidToken(/no expiry/), String(exp));
    }
  });

  test('nbf: the current second is valid, leeway applies, non-numbers are refused', () => {
    assert.ok(checkClaims({ ...base, nbf: now }, strict, now));
    assert.throws(() => checkClaims({ ...base, nbf: now + 1 }, strict, now), isInvalidToken(/not valid yet/));
    assert.ok(checkClaims({ ...base, nbf: now + 30 }, rules, now));
    for (const nbf of [String(now - 10), null, Number.NaN, Number.NEGATIVE_INFINITY]) {
      assert.throws(() => checkClaims({ ...base, nbf }, rules, now), isInvalidToken(/not valid yet/), String(nbf));
    }
  });

  test('iat: past and present are fine, the future beyond leeway and non-numbers are refused', () => {
    assert.ok(checkClaims({ ...base, iat: now - 3600 }, strict, now));
    assert.ok(checkClaims({ ...base, iat: now }, strict, now));
    assert.throws(() => checkClaims({ ...base, iat: now + 1 }, strict, now), isInvalidToken(/issued in the future/));
    assert.ok(checkClaims({ ...base, iat: now + 30 }, rules, now));
    assert.throws(() => checkClaims({ ...base, iat: String(now) }, rules, now), isInvalidToken(/issued in the future/));
  });

  test('aud must be exactly our audience, alone', () => {
    for (const aud of [[], ['api', 'api'], ['other'], [['api']], 'API', 'api ', null, 42, { aud: 'api' }]) {
      assert.throws(() => checkClaims({ ...base, aud }, rules, now), isInvalidToken(/audience \("aud"\) not accepted/), JSON.stringify(aud));
    }
  });

  test('iss must match exactly, and is checked before everything else', () => {
    const { iss: _unused, ...noIss } = base;
    void _unused;
    assert.throws(() => checkClaims(noIss, rules, now), isInvalidToken(/issuer not accepted/));
    assert.throws(() => checkClaims({ ...base, iss: 'https://IDP.example' }, rules, now), isInvalidToken(/issuer/));
    assert.throws(() => checkClaims({ sub: 1, iss: 'https://evil.example', exp: 'never' }, rules, now), isInvalidToken(/issuer/));
  });

  test('sub: a non-empty string of at most 256 characters', () => {
    assert.equal(checkClaims({ ...base, sub: 's'.repeat(256) }, rules, now).sub.length, 256);
    for (const sub of ['s'.repeat(257), '', 42, null, ['alice'], undefined]) {
      assert.throws(() => checkClaims({ ...base, sub }, rules, now), isInvalidToken(/no subject/), String(sub).slice(0, 20));
    }
  });

  test('jti: optional; a string of at most 256 characters when present', () => {
    assert.equal(checkClaims({ ...base, jti: 'j'.repeat(256) }, rules, now).jti?.length, 256);
    assert.equal(checkClaims({ ...base, jti: '' }, rules, now).jti, '');
    for (const jti of ['j'.repeat(257), 42, null, { id: 'x' }]) {
      assert.throws(() => checkClaims({ ...base, jti }, rules, now), isInvalidToken(/malformed "jti"/), String(jti).slice(0, 20));
    }
  });
});
