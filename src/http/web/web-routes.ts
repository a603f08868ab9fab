/**
 * Browser sign-in and the "your access" page:
 *   GET  /login[?idp=N]  to the identity provider (authorization code, PKCE S256, state, nonce)
 *   GET  /callback       back from it: the code redeemed, the ID token verified, a web session started
 *   GET  /access         who you are, your roles, the datasets you may read, your tokens
 *   POST /access/tokens, /access/tokens/revoke   make or revoke a personal access token (an API key you own)
 *   POST /logout         ends the web session (and, when the provider has one, goes to its end-session endpoint)
 * Every form carries the session's CSRF token and must come from our own origin; pages are
 * no-store, framed by nobody, and under a Content-Security-Policy that allows our stylesheet and
 * nothing else. No token ever appears in a URL.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditSink } from '../../audit/audit-log.js';
import type { ApiKeyAdmin } from '../../auth/api-key-admin.js';
import type { WebSession, WebSessions } from '../../auth/web-sessions.js';
import { FlightgateError } from '../../core/errors.js';
import type { Principal } from '../../core/principal.js';
import { principalKey } from '../../core/principal.js';
import { LoginError, type OidcLogin, type PendingLogin } from '../../tokens/oidc-login.js';
import { clearCookie, cookieNames, readCookie, seal, setCookie, unseal } from './cookies.js';
import { accessPage, devicePage, loginChooserPage, messagePage, STYLESHEET, tokenCreatedPage, type DatasetColumns } from './pages.js';
import type { DeviceFlow } from '../../tokens/device-flow.js';
import { GRANT_DEVICE_CODE } from '../../core/vocabulary.js';

export interface WebOptions {
  /** Our public base URL (tokens.issuer): the callback is `${base}/callback`. */
  readonly base: string;
  readonly logins: readonly OidcLogin[];
  readonly sessions: WebSessions;
  readonly apiKeys: ApiKeyAdmin;
  /** Seals the pending-login cookie. */
  readonly loginKey: Buffer;
  /** The datasets `principal` may read, with the columns it sees. */
  readonly datasets: (principal: Principal) => Promise<DatasetColumns[]>;
  /** Where Flight clients connect, for the snippets. */
  readonly flightUri: () => string;
  readonly maxTokenDays: number;
  readonly sessionLifetimeSeconds: number;
  readonly audit: AuditSink;
  readonly onInternalError: (err: unknown) => void;
  /** The device flow, approved at /device. */
  readonly devices?: DeviceFlow;
}

/** Where a sign-in may return to: a path of ours, never another site (`//host`, `/\\host`). */
const safeNext = (next: unknown): string | undefined =>
  typeof next === 'string' && /^\/(?![\/\\])[\x21-\x7e]{0,512}$/.test(next) ? next : undefined;

const LOGIN_WINDOW_MS = 10 * 60 * 1000;
const MAX_SIGN_INS_IN_WINDOW = 100_000;

export function webRoutes(app: FastifyInstance, o: WebOptions): void {
  if (o.logins.length === 0) return;
  const secure = o.base.startsWith('https:');
  const names = cookieNames(secure);
  const origin = new URL(o.base).origin;
  const idpOrigins = [...new Set(o.logins.map((l) => new URL(l.issuer.issuer).origin))];
  // States already redeemed here: a callback replayed to this replica is refused before the provider is asked again.
  const usedStates = new Map<string, number>();

  const page = (reply: FastifyReply, status: number, html: string): FastifyReply =>
    reply
      .code(status)
      .type('text/html; charset=utf-8')
      .headers({
        'cache-control': 'no-store',
        'content-security-policy': `default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' ${idpOrigins.join(' ')}; frame-ancestors 'none'; base-uri 'none'`,
        'x-frame-options': 'DENY',
        'x-content-type-options': 'nosniff',
        // same-origin, not no-referrer: with no-referrer the browser sends `Origin: null` on our own form posts.
        'referrer-policy': 'same-origin',
      })
      .send(html);

  const session = (req: FastifyRequest): Promise<WebSession | undefined> => o.sessions.find(readCookie(req.headers.cookie, names.session));

  /** A form post: our origin (browsers send Origin on POST; a cross-site form is refused), a live session, its CSRF token. */
  async function formPost(req: FastifyRequest, reply: FastifyReply): Promise<{ s: WebSession; form: URLSearchParams } | undefined> {
    const from = req.headers.origin;
    if (from !== undefined && from !== origin) {
      page(reply, 403, messagePage('Refused', 'This form was sent from another site.', false));
      return undefined;
    }
    const s = await session(req);
    if (!s) {
      reply.code(303).header('location', '/login').send();
      return undefined;
    }
    const form = new URLSearchParams(typeof req.body === 'string' ? req.body : '');
    if (from === undefined && !req.headers.referer?.startsWith(`${origin}/`)) {
      page(reply, 403, messagePage('Refused', 'This form was sent from another site.', false));
      return undefined;
    }
    if (!o.sessions.checkCsrf(s, form.get('csrf'))) {
      page(reply, 403, messagePage('Refused', 'This form is stale or was not sent from this page; reload it and try again.', false));
      return undefined;
    }
    return { s, form };
  }

  async function renderAccess(reply: FastifyReply, s: WebSession, message?: string): Promise<FastifyReply> {
    const owner = principalKey(s.principal);
    const [datasets, tokens] = await Promise.all([o.datasets(s.principal), o.apiKeys.listOwned(owner)]);
    return page(
      reply,
      200,
      accessPage({ subject: s.principal.id, issuer: s.principal.issuer ?? '', roles: s.principal.roles, datasets, tokens, csrf: s.csrf, maxTokenDays: o.maxTokenDays, ...(message ? { message } : {}) }),
    );
  }

  app.get('/web.css', async (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(STYLESHEET));

  app.get('/login', async (req, reply) => {
    const idp = (req.query as Record<string, unknown>).idp;
    const index = typeof idp === 'string' && /^\d{1,3}$/.test(idp) ? Number(idp) : o.logins.length === 1 ? 0 : -1;
    const login = o.logins[index];
    if (!login) return page(reply, 200, loginChooserPage(o.logins.map((l, i) => ({ index: i, label: l.label }))));
    let started;
    try {
      started = await login.start();
    } catch (err) {
      o.onInternalError(err);
      return page(reply, 503, messagePage('Sign-in unavailable', `The identity provider ${login.label} cannot be reached; try again shortly.`));
    }
    const next = safeNext((req.query as Record<string, unknown>).next);
    const pending = seal(o.loginKey, { ...started.pending, i: index, ...(next ? { n: next } : {}) }, Date.now() + LOGIN_WINDOW_MS);
    return reply.code(302).headers({ location: started.url, 'cache-control': 'no-store', 'set-cookie': setCookie(names.login, pending, LOGIN_WINDOW_MS / 1000, secure) }).send();
  });

  app.get('/callback', async (req, reply) => {
    const query = req.query as Record<string, unknown>;
    const sealed = unseal(o.loginKey, readCookie(req.headers.cookie, names.login));
    reply.header('set-cookie', clearCookie(names.login, secure));
    const refuse = (why: string): FastifyReply => {
      o.audit.record({ event: 'auth.failure', outcome: 'denied', method: 'oidc-login', peer: req.ip, reason: why.slice(0, 120) });
      return page(reply, 400, messagePage('Sign-in failed', why));
    };
    if (!sealed) return refuse('This sign-in was not started here, or took longer than ten minutes: start again.');
    const login = o.logins[Number(sealed.i)];
    const pending: PendingLogin = { state: String(sealed.state), nonce: String(sealed.nonce), verifier: String(sealed.verifier) };
    if (!login) return refuse('The identity provider of this sign-in is no longer configured.');
    // The state first: a callback forged with another state must not use up the real one.
    if (!login.stateMatches(query.state, pending)) return refuse('the sign-in came back with another state: start again');
    const now = Date.now();
    // Entries are in the order they expire: only the expired head is looked at.
    for (const [state, until] of usedStates) {
      if (until >= now) break;
      usedStates.delete(state);
    }
    if (usedStates.has(pending.state)) return refuse('This sign-in was already used: start again.');
    // Each entry is a sign-in someone started within ten minutes: a flood of them is refused, not remembered without end.
    if (usedStates.size >= MAX_SIGN_INS_IN_WINDOW) return page(reply, 503, messagePage('Sign-in busy', 'Too many sign-ins in the last ten minutes on this server; try again shortly.'));
    usedStates.set(pending.state, now + LOGIN_WINDOW_MS);
    let identity;
    try {
      identity = await login.finish(query, pending, Math.floor(now / 1000));
    } catch (err) {
      if (err instanceof LoginError) return refuse(err.message);
      o.onInternalError(err);
      return page(reply, 503, messagePage('Sign-in unavailable', 'The identity provider could not be reached; try again shortly.'));
    }
    // A session the browser already held ends: a sign-in always leaves exactly one, fresh.
    const previous = await session(req).catch(() => undefined);
    if (previous) await o.sessions.close(previous).catch(() => undefined);
    const token = await o.sessions.open({ issuer: identity.issuer, subject: identity.subject, roles: identity.roles });
    o.audit.record({ event: 'auth.success', outcome: 'ok', principal: identity.subject, kind: 'external', issuer: identity.issuer, method: 'oidc-login', peer: req.ip });
    o.audit.record({ event: 'session.created', outcome: 'ok', principal: identity.subject, kind: 'external', issuer: identity.issuer, method: 'web', peer: req.ip });
    // A fresh session token at every sign-in: whatever cookie the browser held before is replaced.
    return reply
      .code(303)
      .headers({ location: safeNext(sealed.n) ?? '/access', 'cache-control': 'no-store' })
      .header('set-cookie', [clearCookie(names.login, secure), setCookie(names.session, token, o.sessionLifetimeSeconds, secure)])
      .send();
  });

  app.get('/access', async (req, reply) => {
    const s = await session(req);
    if (!s) return reply.code(303).header('location', '/login').send();
    return renderAccess(reply, s);
  });

  app.post('/access/tokens', async (req, reply) => {
    const post = await formPost(req, reply);
    if (!post) return reply;
    const { s, form } = post;
    const days = Number(form.get('days'));
    if (!Number.isInteger(days) || days < 1 || days > o.maxTokenDays) return renderAccess(reply.code(400), s, `A token lives 1 to ${o.maxTokenDays} days (web.maxTokenDays).`);
    const label = form.get('label') ?? '';
    try {
      const made = await o.apiKeys.createOwned(principalKey(s.principal), label, form.getAll('role'), s.principal.roles, days * 86_400_000);
      o.audit.record({ event: 'apikey.changed', outcome: 'ok', principal: s.principal.id, kind: 'external', issuer: s.principal.issuer, method: 'web', peer: req.ip, reason: `created ${made.view.name}` });
      const readable = await o.datasets(s.principal);
      return page(reply, 200, tokenCreatedPage({ token: made.key, label: made.view.label ?? label, flightUri: o.flightUri(), ...(readable[0] ? { dataset: readable[0].name } : {}) }));
    } catch (err) {
      if (err instanceof FlightgateError) return renderAccess(reply.code(400), s, err.message);
      throw err;
    }
  });

  app.post('/access/tokens/revoke', async (req, reply) => {
    const post = await formPost(req, reply);
    if (!post) return reply;
    const { s, form } = post;
    const name = form.get('name') ?? '';
    try {
      await o.apiKeys.revokeOwned(principalKey(s.principal), name);
    } catch (err) {
      if (err instanceof FlightgateError) return renderAccess(reply.code(404), s, err.message);
      throw err;
    }
    o.audit.record({ event: 'apikey.changed', outcome: 'ok', principal: s.principal.id, kind: 'external', issuer: s.principal.issuer, method: 'web', peer: req.ip, reason: `revoked ${name}` });
    return reply.code(303).header('location', '/access').send();
  });

  const devices = o.devices;
  if (devices) {
    app.get('/device', async (req, reply) => {
      const code = String((req.query as Record<string, unknown>).user_code ?? '').slice(0, 16);
      const s = await session(req);
      if (!s) return reply.code(303).header('location', `/login?next=${encodeURIComponent(`/device?user_code=${code}`)}`).send();
      return page(reply, 200, devicePage({ userCode: code, csrf: s.csrf, subject: s.principal.id }));
    });

    app.post('/device', async (req, reply) => {
      const post = await formPost(req, reply);
      if (!post) return reply;
      const { s, form } = post;
      const code = (form.get('user_code') ?? '').slice(0, 16);
      const approve = form.get('action') === 'approve';
      const settled = await devices.settle(
        code,
        approve
          ? { status: 'approved', approval: { subject: s.principal.id, subjectKind: 'external', ...(s.principal.issuer ? { subjectIssuer: s.principal.issuer } : {}), roles: s.principal.roles } }
          : { status: 'denied' },
      );
      if (!settled) return page(reply, 404, devicePage({ userCode: code, csrf: s.csrf, subject: s.principal.id, message: 'No request waits for this code: it was mistyped, has expired, or was already answered.' }));
      o.audit.record({ event: approve ? 'token.issued' : 'token.denied', outcome: approve ? 'ok' : 'denied', principal: s.principal.id, kind: 'external', issuer: s.principal.issuer, method: 'device', grant: GRANT_DEVICE_CODE, peer: req.ip, reason: approve ? 'device request approved on the web page' : 'device request denied on the web page' });
      return page(reply, 200, messagePage(approve ? 'Approved' : 'Denied', approve ? 'The device is signed in as you; you may close this page.' : 'The device was refused.', false));
    });
  }

  app.post('/logout', async (req, reply) => {
    const post = await formPost(req, reply);
    if (!post) return reply;
    await o.sessions.close(post.s);
    o.audit.record({ event: 'session.revoked', outcome: 'ok', principal: post.s.principal.id, kind: 'external', issuer: post.s.principal.issuer, method: 'web', peer: req.ip });
    reply.header('set-cookie', clearCookie(names.session, secure));
    const login = o.logins.find((l) => l.issuer.issuer === post.s.principal.issuer);
    const end = login && (await login.endSessionEndpoint());
    if (end) {
      const url = new URL(end);
      url.searchParams.set('client_id', login.clientId);
      url.searchParams.set('post_logout_redirect_uri', `${o.base}/login`);
      return reply.code(303).header('location', url.toString()).send();
    }
    return page(reply, 200, messagePage('Signed out', 'You are signed out of flightgate.'));
  });
}
