/** Every setting flightgate reads, with defaults that work embedded (no other service). */
import { z } from 'zod';
import { DATASET_ACTIONS } from '../core/actions.js';

const throttleSchema = z
  .object({
    freeFailures: z.number().int().min(0).default(3).describe('failed logins per account or address before delays start'),
    baseDelayMs: z.number().int().min(0).default(250).describe('first delay; it doubles with each further failure'),
    maxDelayMs: z.number().int().min(0).default(4000),
    lockoutFailures: z.number().int().positive().default(10).describe('consecutive failures that lock an account for the address they came from'),
    lockoutSeconds: z.number().positive().default(360).describe('lockout length of an account at an address, and of an address'),
    peerLockoutFailures: z.number().int().positive().default(50).describe('consecutive failures over any accounts that lock a client address (a success does not reset them)'),
    accountFailuresPerHour: z.number().int().positive().default(100).describe('failures an account may see in an hour from addresses it has not logged in from; then those are refused for an hour'),
    knownAddressDays: z.number().min(0).default(30).describe('how long an address that logged in to an account stays exempt from accountFailuresPerHour'),
    maxInFlightPerAccount: z.number().int().positive().default(4).describe('password verifications of one account at the same time; more are refused at once'),
    maxInFlightPerAddress: z.number().int().positive().default(32).describe('password verifications from one client address at the same time; more are refused at once'),
    maxLoginsInFlight: z.number().int().positive().default(64).describe('password verifications this server runs or queues at the same time'),
  })
  .strict();

const authSchema = z
  .object({
    sessionLifetimeSeconds: z.number().positive().default(8 * 3600).describe('absolute lifetime of a session token'),
    sessionIdleSeconds: z.number().positive().default(30 * 60).describe('a session unused this long ends'),
    sessionRotateAfter: z.number().min(0).max(1).default(0.5).describe('share of the lifetime after which a call returns a fresh token'),
    sessionRotationGraceSeconds: z.number().min(0).default(30).describe('how long a rotated token keeps working'),
    registryCacheMs: z.number().int().min(0).default(1000).describe('how long a user\'s state and the grants are cached'),
    throttle: throttleSchema.default(throttleSchema.parse({})),
  })
  .strict();

const JWS_ALGORITHMS = ['ES256', 'ES384', 'Ed25519', 'EdDSA', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const;

const oidcIssuerSchema = z
  .object({
    issuer: z.string().url().describe('the issuer exactly as its tokens name it in "iss" (discovery is read from it)'),
    audience: z.string().min(1).describe('the "aud" its access tokens must carry for flightgate'),
    jwksUri: z.string().url().optional().describe('skip discovery and fetch keys from here'),
    algorithms: z.array(z.enum(JWS_ALGORITHMS)).min(1).default(['RS256', 'ES256']).describe('accepted signature algorithms'),
    types: z.array(z.string()).default(['at+jwt']).describe('accepted "typ" headers; [] accepts any (e.g. Azure AD v1 tokens)'),
    principalClaim: z.string().min(1).default('sub').describe('claim naming the caller'),
    rolesClaim: z.string().min(1).default('groups').describe('claim holding the groups mapped to roles'),
    roleMap: z.record(z.string(), z.array(z.string().min(1))).default({}).describe('group → flightgate roles; unmapped groups give nothing'),
    clockLeewaySeconds: z.number().min(0).max(300).default(30),
    jwksCacheSeconds: z.number().positive().default(600),
    jwksCooldownSeconds: z.number().min(0).default(30).describe('least time between two JWKS fetches for unknown key ids'),
    login: z
      .object({
        clientId: z.string().min(1).describe('the client id flightgate has at this identity provider, for browser sign-in'),
        clientSecret: z.string().min(1).optional().describe('its secret (confidential client, client_secret_basic); without it or a key, a public client with PKCE'),
        privateKeyFile: z.string().min(1).optional().describe('a PEM private key (EC P-256, RSA or Ed25519) to authenticate with private_key_jwt instead of a secret'),
        keyId: z.string().min(1).max(256).optional().describe('the kid of that key as registered at the provider'),
        scopes: z.array(z.string().min(1)).default(['openid', 'profile', 'email']).describe('scopes asked for at sign-in (openid is always asked)'),
        label: z.string().min(1).max(64).optional().describe('the sign-in button text (default: the issuer\'s host)'),
      })
      .strict()
      .superRefine((l, ctx) => {
        if (l.clientSecret && l.privateKeyFile) ctx.addIssue({ code: 'custom', path: ['privateKeyFile'], message: 'give clientSecret or privateKeyFile, not both' });
      })
      .optional()
      .describe('browser sign-in with this issuer (authorization code flow with PKCE) at /login'),
  })
  .strict();

const tokensSchema = z
  .object({
    issuer: z.string().url().optional().describe('"iss" of our tokens (default http://HOST:HTTP_PORT); replicas must agree'),
    audience: z.string().min(1).default('flightgate').describe('"aud" of our access tokens'),
    accessTokenLifetimeSeconds: z.number().int().positive().max(86_400).default(600),
    refreshTokenLifetimeSeconds: z.number().int().positive().default(14 * 86_400).describe('lifetime of a refresh-token family'),
    refreshReuseGraceSeconds: z.number().min(0).max(300).default(10).describe('a used refresh token may come back this long (lost response) before reuse revokes its family'),
    signingAlgorithm: z.enum(['ES256', 'Ed25519', 'EdDSA']).default('ES256').describe('ES256, or Ed25519 ("EdDSA" is its deprecated name, RFC 9864, and means Ed25519)'),
    keyEncryptionKey: z.string().min(1).optional().describe('base64 of 32 random bytes encrypting signing keys at rest (required with PostgreSQL)'),
    keyReloadSeconds: z.number().positive().default(30).describe('how often signing keys are re-read from the registry'),
    clockLeewaySeconds: z.number().min(0).max(300).default(5),
    verifiedCacheEntries: z.number().int().min(0).default(50_000).describe('verified bearer JWTs kept to skip re-verifying signatures'),
    passwordGrant: z.boolean().default(false).describe('allow grant_type=password (off, as RFC 9700 advises)'),
    exchangeRefreshTokens: z.boolean().default(false).describe('token exchange also returns a refresh token (its roles are those of the exchanged IdP token and do not change)'),
    exchangeMaxLifetimeSeconds: z.number().int().min(0).default(0).describe('how long what a token exchange issues (access and refresh tokens) may live; 0: until the exchanged IdP token expires'),
    apiKeyCacheMs: z.number().int().min(0).default(1000),
  })
  .strict();

const transportSchema = z
  .object({
    maxMessageBytes: z.number().int().positive().default(1024 * 1024 * 1024).describe('largest FlightData message of an authenticated DoPut or DoExchange'),
    maxHandshakeBytes: z.number().int().positive().default(64 * 1024).describe('largest Handshake message (read before any credential is checked)'),
    maxRequestBytes: z.number().int().positive().default(4 * 1024 * 1024).describe('largest request of a single-request call: descriptor, ticket, action, criteria'),
    maxPendingRequestBytesPerConnection: z.number().int().positive().default(16 * 1024 * 1024).describe('bytes of Handshake and single-request messages still arriving on one connection'),
    maxPendingBytes: z.number().int().positive().default(2 * 1024 * 1024 * 1024).describe('bytes of all messages still arriving, over the whole server'),
    receiveWindowBytes: z.number().int().min(65535).max(2 ** 31 - 1).default(32 * 1024 * 1024).describe('HTTP/2 receive window per stream; large values speed uploads'),
    maxConcurrentStreams: z.number().int().positive().default(100).describe('concurrent calls per connection (HTTP/2 SETTINGS)'),
    maxMetadataBytes: z.number().int().min(1024).max(1024 * 1024).default(16 * 1024).describe('largest request metadata (headers), counted as HTTP/2 does'),
    idleTimeoutSeconds: z.number().min(0).default(300).describe('a connection without a call this long is closed, whatever it sends meanwhile (0: never)'),
    headersTimeoutSeconds: z.number().min(0).default(10).describe('a new connection must have sent the complete headers of a call within this (0: never)'),
    firstMessageTimeoutSeconds: z.number().min(0).default(10).describe('a call not yet authenticated (a Handshake) must send its first message within this (0: never)'),
    maxConnections: z.number().int().positive().default(1000).describe('open connections in all; more are refused at once'),
    maxConnectionsPerAddress: z.number().int().positive().default(100).describe('open connections from one client address; more are refused at once'),
  })
  .strict();

const limitsSchema = z
  .object({
    callsPerSecond: z.number().min(0).default(0).describe('calls per second per principal (0: no limit)'),
    callBurst: z.number().min(0).default(0).describe('calls a principal may make at once after a pause (0: callsPerSecond)'),
    maxUploadBytes: z.number().int().min(0).default(0).describe('largest single DoPut in bytes (0: no limit)'),
    uploadBytesPerHour: z.number().int().min(0).default(0).describe('bytes a principal may upload per hour (0: no limit)'),
    sharedCallRate: z.boolean().default(false).describe('count callsPerSecond over all replicas in Redis (redisUrl; one Redis call per authenticated call) instead of in each replica'),
  })
  .strict();

const sqlSchema = z
  .object({
    enabled: z.boolean().default(true).describe('serve Flight SQL over the datasets (needs the DuckDB binding, built at npm install)'),
    threads: z.number().int().positive().max(256).default(2).describe('DuckDB worker threads'),
    memoryLimit: z.string().regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB|%)$/i, 'expected a size such as 2GB or 512MiB, or a share such as 50%').default('1GB').describe('memory the SQL engine may use; past it, operators spill to tempDirectory, then queries fail with RESOURCE_EXHAUSTED'),
    memoryCeiling: z.string().regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB|%)$/i, 'expected a size such as 4GB, or a share such as 80%').optional().describe('resident memory of the server process past which the SQL engine allocates nothing more: the statement that asks fails with RESOURCE_EXHAUSTED (default: twice memoryLimit plus 1GB, at most 90% of the memory of the machine); memoryLimit binds only the engine\'s buffer pool, this binds everything it allocates'),
    tempDirectory: z.string().min(1).optional().describe('where the engine spills (default DATA_DIR/.sql-spill, private to the server)'),
    maxTempDirectorySize: z.string().min(1).default('10GB').describe('how much the engine may spill'),
    maxConcurrentQueries: z.number().int().positive().default(16).describe('SQL statements running at once on this server'),
    maxConcurrentQueriesPerPrincipal: z.number().int().positive().default(4).describe('SQL statements one principal may run at once'),
    maxQuerySeconds: z.number().positive().default(300).describe('longest a statement may run (a shorter client deadline wins)'),
    maxStatementBytes: z.number().int().positive().default(1024 * 1024).describe('longest SQL text accepted'),
    resultBatchRows: z.number().int().positive().default(65536).describe('rows taken from the engine per round trip while streaming a result'),
    scanCacheSize: z.string().regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'expected a size such as 512MB').default('512MB').describe('IPC file columns (uploads, .arrow/.arrows files) a query read are kept in memory up to this much, so later queries skip the file; a changed file is a new version and is read again; 0B: off'),
    materializeBelow: z.string().regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'expected a size such as 128MB').default('128MB').describe('a result the planner expects smaller than this is computed whole, on all threads, before it streams (filters and aggregates come fastest so); computing it stops and the result streams instead once the server has grown by this much meanwhile; 0B: always stream'),
  })
  .strict();

const clientPrincipalSchema = z
  .object({
    subject: z.string().min(1).describe('the certificate name to match exactly: its common name, or a DNS, e-mail or URI alternative name'),
    principal: z.string().min(1).optional().describe('the principal id (default: subject)'),
    roles: z.array(z.string().min(1)).default([]),
  })
  .strict();

const tlsSchema = z
  .object({
    certFile: z.string().min(1).describe('PEM certificate chain of the server'),
    keyFile: z.string().min(1).describe('PEM private key of the server'),
    clientCaFile: z.string().min(1).optional().describe('PEM CA bundle: client certificates are asked for and verified against it (mutual TLS)'),
    clientCrlFile: z.string().min(1).optional().describe('PEM certificate revocation list(s) of the client CA: listed certificates are refused'),
    clientCertificates: z
      .enum(['optional', 'required'])
      .default('optional')
      .describe('with clientCaFile: "required" refuses connections without a valid client certificate; "optional" lets them use other credentials'),
    clientPrincipals: z.array(clientPrincipalSchema).default([]).describe('verified client certificates → principals and roles'),
    http: z.boolean().default(true).describe('serve the HTTP service over TLS too, with the same certificate'),
  })
  .strict()
  .superRefine((tls, ctx) => {
    if (tls.clientCaFile) return;
    if (tls.clientCertificates === 'required') ctx.addIssue({ code: 'custom', path: ['clientCertificates'], message: '"required" needs tls.clientCaFile, the CA client certificates are verified against' });
    if (tls.clientPrincipals.length) ctx.addIssue({ code: 'custom', path: ['clientPrincipals'], message: 'needs tls.clientCaFile: without it no client certificate is asked for' });
    if (tls.clientCrlFile) ctx.addIssue({ code: 'custom', path: ['clientCrlFile'], message: 'needs tls.clientCaFile, the CA whose certificates it revokes' });
  });

const catalogSchema = z
  .object({
    shared: z
      .boolean()
      .optional()
      .describe('keep the manifests of uploaded datasets in PostgreSQL (databaseUrl), for replicas sharing one dataDir; default: on when databaseUrl is set'),
    retainReplacedSeconds: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('shared catalog: how long a replaced or dropped segment file is kept for readers on other replicas (default: ticketTtlSeconds plus one hour)'),
    refreshSeconds: z.number().positive().default(10).describe('shared catalog: every replica reads the whole catalog again this often, besides the change notifications'),
    heartbeatSeconds: z.number().positive().default(1).describe('shared catalog: how often a replica tells the others it is alive'),
    replicaTimeoutSeconds: z.number().positive().default(10).describe('shared catalog: a replica silent this long is gone; its unfinished uploads are cleaned up'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.replicaTimeoutSeconds < 3 * c.heartbeatSeconds) {
      ctx.addIssue({ code: 'custom', path: ['replicaTimeoutSeconds'], message: 'must be at least three heartbeats (catalog.heartbeatSeconds), or a busy replica is taken for gone' });
    }
  });

const webSchema = z
  .object({
    sessionLifetimeSeconds: z.number().int().positive().default(8 * 3600).describe('longest a browser sign-in lasts'),
    sessionIdleSeconds: z.number().int().positive().default(3600).describe('a browser session unused this long ends'),
    maxTokenDays: z.number().int().positive().max(3650).default(90).describe('longest lifetime of a personal access token made on the access page'),
    deviceCodeSeconds: z.number().int().min(5).max(3600).default(600).describe('how long a device code (flightgate login, RFC 8628) waits for approval'),
    devicePollSeconds: z.number().int().min(1).max(60).default(5).describe('least time between two polls of a device code'),
    maxPendingDeviceCodes: z.number().int().positive().default(10_000).describe('device codes waiting for approval at once; more requests get 503 until some are answered or expire'),
  })
  .strict();

const corsSchema = z
  .object({
    origins: z
      .array(z.union([z.literal('*'), z.string().regex(/^https?:\/\/[^/\s]+$/, 'expected an origin such as https://app.example.com (scheme and host, no path)')]))
      .default([])
      .describe('browser origins allowed to call /oauth2/token, /oauth2/revoke, /whoami, discovery and the JWKS; * for any; empty: CORS off'),
    credentials: z.boolean().default(false).describe('allow cookies on those cross-origin calls (never with *)'),
    maxAgeSeconds: z.number().int().min(0).max(86_400).default(600).describe('how long browsers may cache a preflight answer'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.credentials && c.origins.includes('*')) ctx.addIssue({ code: 'custom', path: ['credentials'], message: 'credentials cannot be allowed for every origin (*): list the origins' });
  });

export const configSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1').describe('address the Flight server binds to'),
    port: z.number().int().min(0).max(65535).default(8815).describe('Flight gRPC port'),
    httpPort: z.number().int().min(0).max(65535).default(8080).describe('HTTP port of the token service, JWKS and health'),
    dataDir: z.string().min(1).default('./flightgate-data').describe('where datasets are discovered and uploads are kept'),
    demo: z.boolean().default(false).describe('seed the demo datasets db1, db2 and numbers'),
    demoNumbersRows: z.number().int().min(0).default(10_000_000).describe('rows in the generated demo numbers dataset'),
    advertisedUri: z.string().url().optional().describe('location put in FlightInfo endpoints (default: reuse this connection)'),
    ticketTtlSeconds: z.number().int().positive().default(3600).describe('lifetime of tickets from GetFlightInfo'),
    durableWrites: z.boolean().default(true).describe('fsync uploads before they become visible'),
    datasetCacheSize: z.string().regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'expected a size such as 512MB').default('512MB').describe('IPC file bodies (uploads, .arrow/.arrows files) a DoGet read are kept in memory up to this much, so later DoGets send them from memory; a changed file is a new version; 0B: off'),
    shutdownGraceSeconds: z.number().min(0).default(30).describe('how long shutdown waits for running calls'),
    logFormat: z.enum(['text', 'json']).default('text').describe('server log lines on stderr: text, or one JSON object per line'),
    datasets: z
      .array(
        z.object({
          name: z.string().min(1),
          path: z.string().min(1),
          // Checked against the file readers when the catalog opens it (and by config check): the readers are the one list of formats.
          format: z.string().min(1).optional().describe('the file format, as a file extension without the dot (default: the path\'s extension)'),
        }).strict(),
      )
      .default([])
      .describe('datasets declared by file path'),
    grants: z
      .array(
        z
          .object({
            role: z.string().min(1).max(128),
            dataset: z.string().min(1).max(256).describe('a dataset name or a glob with * and ?'),
            actions: z.array(z.enum(DATASET_ACTIONS)).min(1),
            rows: z.string().min(1).max(4096).optional().describe("row filter of the read grant, e.g. \"region = 'EU'\" or \"tenant_id = claim('tenant')\""),
            columns: z.record(z.string().min(1), z.string().min(1)).optional().describe('column → hide, null, redact, hash, last4 or truncate:UNIT, for the read grant'),
          })
          .strict(),
      )
      .default([])
      .describe('grants declared here besides those in the registry (roles grant); read grants may restrict rows and columns'),
    tls: tlsSchema.optional().describe('serve grpc+tls:// (and https:// for the HTTP service) instead of plain text'),
    transport: transportSchema.default(transportSchema.parse({})),
    limits: limitsSchema.default(limitsSchema.parse({})).describe('per-principal limits, counted in each replica (the call rate over all of them with sharedCallRate)'),
    sql: sqlSchema.default(sqlSchema.parse({})).describe('Flight SQL and its embedded engine'),
    databaseUrl: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL')
      .optional()
      .describe('PostgreSQL registry of users and roles (default: the SQLite file flightgate.db in dataDir)'),
    catalog: catalogSchema.default(catalogSchema.parse({})).describe('where the manifests of uploaded datasets are kept'),
    web: webSchema.default(webSchema.parse({})).describe('browser sign-in (oidc.issuers[].login) and the access page'),
    cors: corsSchema.default(corsSchema.parse({})).describe('cross-origin calls from browser applications to the token service (off by default)'),
    redisUrl: z
      .string()
      .regex(/^rediss?(\+(cluster|sentinel))?:\/\//, 'expected a redis://, rediss://, redis+cluster://host:port,… or redis+sentinel://host:port,…/MASTER URL')
      .optional()
      .describe('Redis shared by replicas for sessions, revocations and the login throttle (default: in this process): redis://host:port, redis+cluster://host:port,host:port (a Redis Cluster), redis+sentinel://host:26379,host:26379/MASTER; rediss… for TLS'),
    audit: z
      .object({ file: z.string().min(1).default('-').describe("audit log file; '-' is stdout") })
      .strict()
      .default({ file: '-' }),
    metrics: z
      .object({
        listen: z
          .string()
          .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, 'expected HOST:PORT, e.g. 127.0.0.1:9464')
          .optional()
          .describe('serve GET /metrics on this HOST:PORT only, instead of on the HTTP service'),
        bearerTokenFile: z.string().min(1).optional().describe('a file holding the bearer token GET /metrics then requires'),
      })
      .strict()
      .default({}),
    auth: authSchema.default(authSchema.parse({})),
    tokens: tokensSchema.default(tokensSchema.parse({})),
    oidc: z
      .object({ issuers: z.array(oidcIssuerSchema).default([]).describe('external identity providers whose JWTs Flight accepts') })
      .strict()
      .default({ issuers: [] }),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type AuthConfig = z.infer<typeof authSchema>;
export type TokensConfig = z.infer<typeof tokensSchema>;
export type OidcIssuerConfig = z.infer<typeof oidcIssuerSchema>;
export type TlsConfig = z.infer<typeof tlsSchema>;
export type ThrottleConfig = z.infer<typeof throttleSchema>;
export type SqlConfig = z.infer<typeof sqlSchema>;
