/**
 * HTTP figures of the token service with autocannon on loopback, sharing the machine's cores:
 * a no-op route of ours (the floor of what HTTP costs here), client_credentials tokens/s and
 * introspections/s, then the same two against oidc-provider configured alike, in turns.
 *
 * usage: node --import tsx bench/oauth_http_bench.mts FLIGHTGATE_HTTP CLIENT_ID CLIENT_SECRET JWT_ISSUER OPAQUE_ISSUER NOOP_POST_URL
 * (the issuers from bench/oidc_provider_server.mts and the POST no-op of bench/http_noop_server.mts,
 * each running in its own process)
 * Prints one JSON line per round and one summary line per figure (medians).
 */
import autocannon from 'autocannon';
const [fgHttp, clientId, clientSecret, jwtIssuer, opaqueIssuer, noopPost] = process.argv.slice(2) as [string, string, string, string, string, string];
const AUDIENCE = 'api://flightgate';
const ROUNDS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);

const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const form = { 'content-type': 'application/x-www-form-urlencoded' };

interface Target {
  name: string;
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** The response must say this, or the round does not count. */
  expect: (status: number, body: string) => boolean;
}

async function check(t: Target): Promise<void> {
  const res = await fetch(t.url, { method: t.method ?? 'GET', headers: t.headers, body: t.body });
  const body = await res.text();
  if (!t.expect(res.status, body)) throw new Error(`${t.name}: unexpected answer ${res.status} ${body.slice(0, 200)}`);
}

async function round(t: Target): Promise<{ rps: number; p50: number; p99: number; errors: number }> {
  const result = await autocannon({
    url: t.url,
    method: t.method ?? 'GET',
    headers: t.headers,
    body: t.body,
    connections: CONNECTIONS,
    duration: SECONDS,
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function token(url: string, auth: string, extra: Record<string, string> = {}): Promise<string> {
  const res = await fetch(url, { method: 'POST', headers: { ...form, authorization: auth }, body: new URLSearchParams({ grant_type: 'client_credentials', ...extra }).toString() });
  const body = (await res.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`no token from ${url}: ${JSON.stringify(body)}`);
  return body.access_token;
}

const idpAuth = basic('bench', 'bench-secret-0123456789-abcdef');
const fgAuth = basic(clientId, clientSecret);
const fgToken = await token(`${fgHttp}/oauth2/token`, fgAuth);
const idpToken = await token(`${opaqueIssuer}/token`, idpAuth, { resource: AUDIENCE, scope: 'flight' });
const active = (s: number, b: string): boolean => s === 200 && b.includes('"active":true');
const issued = (s: number, b: string): boolean => s === 200 && b.includes('access_token');

const targets: Target[] = [
  { name: 'flightgate no-op route (GET /healthz)', url: `${fgHttp}/healthz`, expect: (s) => s === 200 },
  // The same request as an introspection (headers, form body), answered without any work.
  { name: 'our HTTP app, no-op POST with the introspection request', url: noopPost, method: 'POST', headers: { ...form, authorization: fgAuth }, body: `token=${fgToken}`, expect: (s) => s === 200 },
  { name: 'flightgate client_credentials', url: `${fgHttp}/oauth2/token`, method: 'POST', headers: { ...form, authorization: fgAuth }, body: 'grant_type=client_credentials', expect: issued },
  { name: 'flightgate introspection', url: `${fgHttp}/oauth2/introspect`, method: 'POST', headers: { ...form, authorization: fgAuth }, body: `token=${fgToken}`, expect: active },
  {
    name: 'oidc-provider client_credentials (ES256 JWT)',
    url: `${jwtIssuer}/token`,
    method: 'POST',
    headers: { ...form, authorization: idpAuth },
    body: `grant_type=client_credentials&resource=${encodeURIComponent(AUDIENCE)}&scope=flight`,
    expect: issued,
  },
  { name: 'oidc-provider introspection (opaque token)', url: `${opaqueIssuer}/token/introspection`, method: 'POST', headers: { ...form, authorization: idpAuth }, body: `token=${idpToken}`, expect: active },
];

const results = new Map<string, { rps: number[]; p50: number[]; p99: number[]; errors: number }>();
for (const t of targets) await check(t);
for (let r = 0; r < ROUNDS; r++) {
  for (const t of targets) {
    const x = await round(t);
    const acc = results.get(t.name) ?? { rps: [], p50: [], p99: [], errors: 0 };
    acc.rps.push(x.rps);
    acc.p50.push(x.p50);
    acc.p99.push(x.p99);
    acc.errors += x.errors;
    results.set(t.name, acc);
    console.log(JSON.stringify({ bench: 'oauth-http', round: r + 1, target: t.name, requests_per_s: Math.round(x.rps), p50_ms: x.p50, p99_ms: x.p99, errors: x.errors }));
  }
}
const rate = (name: string): number => median(results.get(name)!.rps);
for (const [name, acc] of results) {
  console.log(JSON.stringify({ bench: 'oauth-http', figure: name, requests_per_s: Math.round(median(acc.rps)), p50_ms: median(acc.p50), p99_ms: median(acc.p99), errors: acc.errors, rounds: ROUNDS, seconds: SECONDS, connections: CONNECTIONS }));
}
/** The ratio of the medians of two figures and the spread of their per-round ratios (rounds run in turns). */
const ratio = (a: string, b: string): { ratio: number; per_round_ratio_min: number; per_round_ratio_max: number } => {
  const xs = results.get(a)!.rps, ys = results.get(b)!.rps;
  const perRound = xs.map((x, i) => x / ys[i]!);
  return { ratio: +(rate(a) / rate(b)).toFixed(2), per_round_ratio_min: +Math.min(...perRound).toFixed(2), per_round_ratio_max: +Math.max(...perRound).toFixed(2) };
};
const [noopGet, noopPost_, cc, intro, idpCc, idpIntro] = targets.map((t) => t.name) as [string, string, string, string, string, string];
console.log(JSON.stringify({ bench: 'oauth-http', figure: 'client_credentials vs oidc-provider', ...ratio(cc, idpCc), goal: '>= 3 and >= 5000/s', tokens_per_s: Math.round(rate(cc)) }));
console.log(JSON.stringify({ bench: 'oauth-http', figure: 'introspection vs no-op GET route', ...ratio(intro, noopGet), goal: '>= 0.8' }));
console.log(JSON.stringify({ bench: 'oauth-http', figure: 'introspection vs no-op POST of the same request', ...ratio(intro, noopPost_), goal: '>= 0.8' }));
console.log(JSON.stringify({ bench: 'oauth-http', figure: 'introspection vs oidc-provider', ...ratio(intro, idpIntro) }));
process.exit(0);
