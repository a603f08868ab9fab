/**
 * Unit tests for the HTTP helpers that the end-to-end tests (http-hardening) only reach through a
 * whole server: how thrown errors become OAuth error answers (errors.ts), the OpenAPI document
 * (openapi.ts) and who may read /metrics (metrics-access.ts).
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { PROMETHEUS_CONTENT_TYPE } from '../../src/audit/metrics.js';
import { FlightgateError, internal, invalidArgument, notFound, permissionDenied, resourceExhausted, unauthenticated, unavailable } from '../../src/core/errors.js';
import { Status } from '../../src/core/status.js';
import { GRANT_TYPES } from '../../src/core/vocabulary.js';
import { NO_STORE, sendOAuthError } from '../../src/http/errors.js';
import { listenMetrics, METRICS_CHALLENGE, metricsAuthorized } from '../../src/http/metrics-access.js';
import { openApiDocument } from '../../src/http/openapi.js';
import { OAuthError } from '../../src/tokens/oauth-error.js';

// ---------------------------------------------------------------------------------------------
// errors.ts
// ---------------------------------------------------------------------------------------------

describe('sendOAuthError', () => {
  let app: FastifyInstance;
  let toThrow: unknown;
  const internals: unknown[] = [];

  before(async () => {
    app = Fastify({ logger: false });
    app.post('/t', async (_req, reply) => sendOAuthError(reply, toThrow, (err) => internals.push(err)));
    await app.ready();
  });
  after(async () => {
    await app.close();
  });

  async function answer(err: unknown): Promise<{ status: number; headers: Record<string, unknown>; body: Record<string, unknown> }> {
    toThrow = err;
    internals.length = 0;
    const res = await app.inject({ method: 'POST', url: '/t' });
    return { status: res.statusCode, headers: res.headers, body: res.json() as Record<string, unknown> };
  }

  function assertNoStore(headers: Record<string, unknown>): void {
    assert.equal(headers['cache-control'], NO_STORE['cache-control']);
    assert.equal(headers['cache-control'], 'no-store');
    assert.equal(headers.pragma, 'no-cache');
  }

  test('an OAuthError is sent as it is: its status, code and description, no-store', async () => {
    const r = await answer(new OAuthError('invalid_scope', 'scope "x" is not the client\'s'));
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, { error: 'invalid_scope', error_description: 'scope "x" is not the client\'s' });
    assertNoStore(r.headers);
    assert.equal(r.headers['www-authenticate'], undefined, 'no challenge without one');
    assert.equal(internals.length, 0, 'not reported as internal');
  });

  test('an OAuthError with a status and a challenge keeps both (401 + WWW-Authenticate)', async () => {
    const r = await answer(new OAuthError('invalid_client', 'client authentication failed', 401, 'Basic realm="flightgate"'));
    assert.equal(r.status, 401);
    assert.equal(r.headers['www-authenticate'], 'Basic realm="flightgate"');
    assert.deepEqual(r.body, { error: 'invalid_client', error_description: 'client authentication failed' });
    assertNoStore(r.headers);
    assert.equal(internals.length, 0);
  });

  test('UNAVAILABLE becomes 503 temporarily_unavailable with the message', async () => {
    const r = await answer(unavailable('the registry does not answer'));
    assert.equal(r.status, 503);
    assert.deepEqual(r.body, { error: 'temporarily_unavailable', error_description: 'the registry does not answer' });
    assertNoStore(r.headers);
    assert.equal(internals.length, 0);
  });

  test('UNAUTHENTICATED becomes 400 invalid_grant with the message', async () => {
    const r = await answer(unauthenticated('wrong user name or password'));
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, { error: 'invalid_grant', error_description: 'wrong user name or password' });
    assert.equal(r.headers['www-authenticate'], undefined);
    assertNoStore(r.headers);
    assert.equal(internals.length, 0);
  });

  test('INVALID_ARGUMENT becomes 400 invalid_request with the message', async () => {
    const r = await answer(invalidArgument('username is too long'));
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, { error: 'invalid_request', error_description: 'username is too long' });
    assertNoStore(r.headers);
    assert.equal(internals.length, 0);
  });

  test('anything else is 500 server_error, reported once to onInternal, its message never shown', async () => {
    const secret = 'SELECT * FROM users -- connection string postgres://u:hunter2@db';
    const cases: unknown[] = [
      new Error(secret),
      new TypeError(secret),
      internal(secret),
      // FlightgateErrors of statuses without an OAuth meaning are not shown either.
      notFound(secret),
      permissionDenied(secret),
      new FlightgateError(Status.DATA_LOSS, secret),
      secret,
      undefined,
      { error: 'invalid_grant', status: 400, message: secret }, // OAuthError-shaped, but not one
    ];
    for (const err of cases) {
      const r = await answer(err);
      assert.equal(r.status, 500, String(err));
      assert.deepEqual(r.body, { error: 'server_error', error_description: 'internal error' });
      assertNoStore(r.headers);
      assert.equal(internals.length, 1, `reported once: ${String(err)}`);
      assert.equal(internals[0], err, 'the original error is what is reported');
      assert.ok(!JSON.stringify(r.body).includes('hunter2'));
    }
  });

  // The login throttle's maxLoginsInFlight is reachable from the password grant: a cue to retry, not a fault.
  test('RESOURCE_EXHAUSTED is 429 temporarily_unavailable with the message naming the setting, not an internal error', async () => {
    const r = await answer(resourceExhausted('too many logins are being verified on this server right now (auth.throttle.maxLoginsInFlight)'));
    assert.equal(r.status, 429);
    assert.equal(r.body.error, 'temporarily_unavailable');
    assert.match(String(r.body.error_description), /maxLoginsInFlight/);
    assertNoStore(r.headers);
    assert.equal(internals.length, 0);
  });
});

// ---------------------------------------------------------------------------------------------
// openapi.ts
// ---------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;
const obj = (v: unknown, what: string): Json => {
  assert.ok(v !== null && typeof v === 'object' && !Array.isArray(v), `${what} is an object`);
  return v as Json;
};

describe('openApiDocument', () => {
  const issuer = 'https://auth.example.test:8443';
  const doc = obj(openApiDocument(issuer), 'the document');

  test('is an OpenAPI 3 document: version, info, servers, paths', () => {
    assert.equal(typeof doc.openapi, 'string');
    assert.match(doc.openapi as string, /^3\.\d+\.\d+$/);
    const info = obj(doc.info, 'info');
    assert.equal(typeof info.title, 'string');
    assert.ok((info.title as string).length > 0);
    assert.equal(typeof info.version, 'string', 'info.version is a string (the spec requires one)');
    assert.deepEqual(doc.servers, [{ url: issuer }], 'the server is the issuer given');
    const paths = obj(doc.paths, 'paths');
    assert.ok(Object.keys(paths).length > 0);
    for (const [path, item] of Object.entries(paths)) {
      assert.match(path, /^\//, `${path} starts with /`);
      const ops = obj(item, path);
      assert.ok(Object.keys(ops).length > 0, `${path} has an operation`);
      for (const [method, op] of Object.entries(ops)) {
        assert.ok(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'].includes(method), `${path}: ${method} is an HTTP method`);
        const responses = obj(obj(op, `${method} ${path}`).responses, `${method} ${path} responses`);
        assert.ok(Object.keys(responses).length > 0, `${method} ${path} has responses`);
        for (const [code, r] of Object.entries(responses)) {
          assert.match(code, /^([1-5]\d\d|[1-5]XX|default)$/, `${method} ${path}: response key ${code}`);
          assert.equal(typeof obj(r, `${method} ${path} ${code}`).description, 'string', `${method} ${path} ${code} has a description`);
        }
      }
    }
  });

  test('survives JSON (it is served as /openapi.json) unchanged', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(doc)), doc);
  });

  test('every $ref resolves and every security requirement names a declared scheme', () => {
    const components = obj(doc.components, 'components');
    const schemes = obj(components.securitySchemes, 'securitySchemes');
    for (const [name, s] of Object.entries(schemes)) {
      assert.ok(['apiKey', 'http', 'mutualTLS', 'oauth2', 'openIdConnect'].includes(obj(s, name).type as string), `${name} has a valid type`);
    }
    const refs: string[] = [];
    const securityNames: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) return v.forEach(walk);
      if (v === null || typeof v !== 'object') return;
      for (const [k, child] of Object.entries(v)) {
        if (k === '$ref') refs.push(child as string);
        else if (k === 'security' && Array.isArray(child)) for (const req of child) securityNames.push(...Object.keys(obj(req, 'a security requirement')));
        else walk(child);
      }
    };
    walk(doc.paths);
    assert.ok(refs.length > 0, 'the document uses $refs');
    for (const ref of refs) {
      const m = /^#\/components\/(\w+)\/(\w+)$/.exec(ref);
      assert.ok(m, `${ref} is a local component reference`);
      assert.ok(obj(components[m[1]!], `components.${m[1]}`)[m[2]!], `${ref} resolves`);
    }
    assert.ok(securityNames.length > 0);
    for (const name of securityNames) assert.ok(Object.hasOwn(schemes, name), `security scheme ${name} is declared`);
  });

  test('describes the token endpoint: POST, form body requiring grant_type, token and error responses', () => {
    const token = obj(obj(doc.paths, 'paths')['/oauth2/token'], '/oauth2/token');
    const post = obj(token.post, 'POST /oauth2/token');
    const body = obj(post.requestBody, 'requestBody');
    assert.equal(body.required, true);
    const schema = obj(obj(obj(body.content, 'content')['application/x-www-form-urlencoded'], 'the form media type').schema, 'the form schema');
    assert.equal(schema.type, 'object');
    const properties = obj(schema.properties, 'properties');
    assert.ok(Array.isArray(schema.required) && schema.required.includes('grant_type'), 'grant_type is required');
    for (const r of schema.required as string[]) assert.ok(Object.hasOwn(properties, r), `required ${r} is a property`);
    for (const p of ['grant_type', 'scope', 'refresh_token', 'subject_token', 'subject_token_type', 'client_id', 'client_secret']) {
      assert.equal(obj(properties[p], p).type, 'string', `${p} is described`);
    }
    const responses = obj(post.responses, 'responses');
    const ok = obj(obj(obj(responses['200'], '200').content, '200 content')['application/json'], '200 json');
    assert.deepEqual(ok.schema, { $ref: '#/components/schemas/TokenResponse' });
    for (const code of ['400', '401', '503']) {
      const json = obj(obj(obj(responses[code], code).content, `${code} content`)['application/json'], `${code} json`);
      assert.deepEqual(json.schema, { $ref: '#/components/schemas/OAuthError' }, `${code} is an OAuth error`);
    }
    const schemas = obj(obj(doc.components, 'components').schemas, 'schemas');
    assert.deepEqual(obj(schemas.OAuthError, 'OAuthError').required, ['error']);
    const tr = obj(schemas.TokenResponse, 'TokenResponse');
    assert.deepEqual([...(tr.required as string[])].sort(), ['access_token', 'expires_in', 'token_type']);
  });

  test('the grant_type enum is exactly the grant types of the shared vocabulary (GRANT_TYPES)', () => {
    const post = obj(obj(obj(doc.paths, 'paths')['/oauth2/token'], 'token').post, 'post');
    const form = obj(obj(obj(post.requestBody, 'body').content, 'content')['application/x-www-form-urlencoded'], 'form');
    const grantType = obj(obj(obj(form.schema, 'schema').properties, 'properties').grant_type, 'grant_type');
    const enumerated = grantType.enum as string[];
    assert.ok(Array.isArray(enumerated));
    assert.equal(new Set(enumerated).size, enumerated.length, 'no duplicates');
    // Order-insensitive: what matters is that no grant is missing or extra.
    assert.deepEqual([...enumerated].sort(), [...GRANT_TYPES].sort());
    // The description lists them too.
    for (const g of GRANT_TYPES) assert.ok((grantType.description as string).includes(g), `description names ${g}`);
  });

  test('lists the other endpoints the HTTP app serves', () => {
    const paths = obj(doc.paths, 'paths');
    const expected: Array<[string, string]> = [
      ['/oauth2/token', 'post'], ['/oauth2/introspect', 'post'], ['/oauth2/revoke', 'post'],
      ['/.well-known/oauth-authorization-server', 'get'], ['/.well-known/jwks.json', 'get'],
      ['/whoami', 'get'], ['/healthz', 'get'], ['/readyz', 'get'], ['/metrics', 'get'], ['/openapi.json', 'get'],
    ];
    for (const [path, method] of expected) assert.ok(obj(paths[path], path)[method], `${method.toUpperCase()} ${path}`);
    // Introspection and revocation need client authentication: no anonymous alternative.
    for (const path of ['/oauth2/introspect', '/oauth2/revoke']) {
      assert.deepEqual(obj(obj(paths[path], path).post, path).security, [{ clientBasic: [] }], path);
    }
  });

  test('each call builds a fresh document for its issuer', () => {
    const a = openApiDocument('https://a.test') as { servers: Array<{ url: string }> };
    const b = openApiDocument('https://b.test') as { servers: Array<{ url: string }> };
    assert.equal(a.servers[0]!.url, 'https://a.test');
    assert.equal(b.servers[0]!.url, 'https://b.test');
    assert.notEqual(a, b);
  });
});

// ---------------------------------------------------------------------------------------------
// metrics-access.ts
// ---------------------------------------------------------------------------------------------

describe('metricsAuthorized', () => {
  const token = 'metrics-token-0123456789abcdef';

  test('without a configured token, anyone may read /metrics', () => {
    for (const header of [undefined, '', 'Bearer anything', 'Basic dXNlcjpwYXNz', 'garbage']) {
      assert.equal(metricsAuthorized({}, header), true, String(header));
    }
  });

  test('with a token: the exact bearer token is allowed, in the usual header spellings', () => {
    for (const header of [`Bearer ${token}`, `bearer ${token}`, `BEARER ${token}`, `Bearer   ${token}`, `Bearer\t${token}`, `Bearer ${token} `, `Bearer ${token}\t`]) {
      assert.equal(metricsAuthorized({ token }, header), true, JSON.stringify(header));
    }
  });

  test('with a token: everything else is refused', () => {
    const refused = [
      undefined,
      '',
      'Bearer',
      'Bearer ',
      token, // no scheme
      `Basic ${token}`,
      `Token ${token}`,
      `Bearer${token}`, // no separator
      ` Bearer ${token}`, // leading space
      `Bearer ${token.slice(0, -1)}`, // a prefix
      `Bearer ${token}x`, // longer
      `Bearer x${token}`,
      `Bearer ${token.toUpperCase()}`, // tokens are case-sensitive
      `Bearer ${token.slice(0, -1)}X`, // same length, one byte differs
      `Bearer ${token} ${token}`, // two tokens
      `Bearer ${token}\nBearer ${token}`,
      `Bearer ${'é'.repeat(token.length / 2)}`, // same byte length, other bytes
    ];
    for (const header of refused) {
      assert.equal(metricsAuthorized({ token }, header), false, JSON.stringify(header));
    }
  });
});

describe('listenMetrics', () => {
  const token = 'metrics-token-0123456789abcdef';
  const servers: Server[] = [];
  after(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  });

  async function listen(access: { token?: string }, render: () => Promise<string>): Promise<string> {
    const { server, uri } = await listenMetrics('127.0.0.1', 0, access, render);
    servers.push(server);
    assert.match(uri, /^http:\/\/127\.0\.0\.1:\d+$/);
    return uri;
  }

  test('with a token: 401 with the challenge without it or with another; 200, no-store, Prometheus text with it', async () => {
    let renders = 0;
    const uri = await listen({ token }, async () => {
      renders++;
      return 'flightgate_up 1\n';
    });
    for (const authorization of [undefined, 'Bearer wrong-token-0123456789abcd', `Basic ${token}`]) {
      const res = await fetch(`${uri}/metrics`, authorization ? { headers: { authorization } } : {});
      assert.equal(res.status, 401, String(authorization));
      assert.equal(res.headers.get('www-authenticate'), METRICS_CHALLENGE);
      assert.doesNotMatch(await res.text(), /flightgate_up/);
    }
    assert.equal(renders, 0, 'nothing is rendered for a refused caller');
    const ok = await fetch(`${uri}/metrics?x=1`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200, 'a query string does not matter');
    assert.equal(ok.headers.get('content-type'), PROMETHEUS_CONTENT_TYPE);
    assert.equal(ok.headers.get('cache-control'), 'no-store');
    assert.equal(await ok.text(), 'flightgate_up 1\n');
    assert.equal(renders, 1);
  });

  test('without a token: open to anyone', async () => {
    const uri = await listen({}, async () => 'up 1\n');
    const res = await fetch(`${uri}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'up 1\n');
  });

  test('only GET /metrics is served: other paths and methods are 404, before any authorization', async () => {
    const uri = await listen({ token }, async () => 'up 1\n');
    const auth = { authorization: `Bearer ${token}` };
    for (const [method, path] of [['GET', '/'], ['GET', '/metrics/'], ['GET', '/metricsx'], ['GET', '/oauth2/token'], ['POST', '/metrics'], ['PUT', '/metrics'], ['DELETE', '/metrics']] as const) {
      const res = await fetch(`${uri}${path}`, { method, headers: auth });
      assert.equal(res.status, 404, `${method} ${path}`);
      await res.text();
      const anon = await fetch(`${uri}${path}`, { method });
      assert.equal(anon.status, 404, `${method} ${path} without a token is 404, not 401`);
      await anon.text();
    }
  });

  test('a failing render is a 500 without details', async () => {
    const uri = await listen({}, async () => {
      throw new Error('secret detail');
    });
    const res = await fetch(`${uri}/metrics`);
    assert.equal(res.status, 500);
    assert.doesNotMatch(await res.text(), /secret detail/);
  });

  test('a port in use is a rejection, not a crash', async () => {
    const uri = await listen({}, async () => '');
    const port = Number(new URL(uri).port);
    await assert.rejects(listenMetrics('127.0.0.1', port, {}, async () => ''), /EADDRINUSE/);
  });
});
