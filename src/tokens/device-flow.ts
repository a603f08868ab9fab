/**
 * The device authorization grant (RFC 8628) for notebooks and the CLI: a client asks for a
 * device code and a short user code; the person enters (or follows) the code on the web page,
 * signed in, and approves; the client meanwhile polls the token endpoint, which answers
 * `authorization_pending`, `slow_down` (polling faster than the interval, which then grows),
 * `expired_token`, `access_denied`, or, once, the tokens of the person who approved.
 */
import { randomInt } from 'node:crypto';
import { FlightgateError } from '../core/errors.js';
import { newOpaqueToken, tokenId } from '../core/opaque-token.js';
import { Status } from '../core/status.js';
import type { DeviceApproval, DeviceCodeRecord, DeviceCodeStore } from '../stores/device-code-store.js';
import type { FormParams } from './form-params.js';
import { invalidRequest, OAuthError } from './oauth-error.js';

/** The public client the CLI and notebooks use; needs no secret (RFC 8628 §5.6: the code is the secret, briefly). */
export const DEVICE_CLIENT = 'flightgate-cli';
export const DEVICE_CODE_PREFIX = 'fgd_';
/** No vowels (no words), no lookalikes: 20^8 ≈ 2^34.6 codes, guessed only online, against a 10-minute window. */
const ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';

export interface DeviceAuthorization {
  readonly device_code: string;
  readonly user_code: string;
  readonly verification_uri: string;
  readonly verification_uri_complete: string;
  readonly expires_in: number;
  readonly interval: number;
}

export interface DeviceFlowOptions {
  /** Our public base URL: the verification page is `${base}/device`. */
  readonly base: string;
  readonly lifetimeMs: number;
  readonly intervalMs: number;
  /** Requests waiting for approval at once, at most. */
  readonly maxPending: number;
}

function userCode(): string {
  let s = '';
  for (let i = 0; i < 8; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return `${s.slice(0, 4)}-${s.slice(4)}`;
}

/** What a person types, as stored: upper case, the dash where it belongs, anything else dropped. */
export function normalizeUserCode(input: string): string | undefined {
  const letters = input.toUpperCase().replace(/[^A-Z]/g, '');
  if (letters.length !== 8 || [...letters].some((c) => !ALPHABET.includes(c))) return undefined;
  return `${letters.slice(0, 4)}-${letters.slice(4)}`;
}

export class DeviceFlow {
  constructor(
    readonly store: DeviceCodeStore,
    private readonly options: DeviceFlowOptions,
  ) {}

  get intervalMs(): number {
    return this.options.intervalMs;
  }

  async authorize(params: FormParams): Promise<DeviceAuthorization> {
    const clientId = params.get('client_id');
    if (clientId !== DEVICE_CLIENT) throw new OAuthError('invalid_client', `the device flow is for the public client "${DEVICE_CLIENT}"`, 401);
    if (params.get('scope')) throw new OAuthError('invalid_scope', 'the device flow grants your roles; ask for no scope');
    const now = Date.now();
    await this.store.purge(now);
    // Anyone may ask without credentials: the requests waiting at once are bounded, so a flood fills no table.
    if ((await this.store.countPending(now)) >= this.options.maxPending) {
      throw new OAuthError('temporarily_unavailable', `too many sign-ins are waiting for approval (web.maxPendingDeviceCodes, ${this.options.maxPending}); try again in a few minutes`, 503);
    }
    const device = newOpaqueToken(DEVICE_CODE_PREFIX);
    for (let attempt = 0; ; attempt++) {
      const code = userCode();
      try {
        await this.store.add({ deviceHash: tokenId(device), userCode: code, clientId, scope: '', createdAt: now, expiresAt: now + this.options.lifetimeMs, intervalMs: this.options.intervalMs });
      } catch (err) {
        if (err instanceof FlightgateError && err.status === Status.ALREADY_EXISTS && attempt < 5) continue;
        if (err instanceof FlightgateError && err.status === Status.UNAVAILABLE) throw new OAuthError('temporarily_unavailable', 'the registry is unavailable; try again', 503);
        throw err;
      }
      return {
        device_code: device,
        user_code: code,
        verification_uri: `${this.options.base}/device`,
        verification_uri_complete: `${this.options.base}/device?user_code=${encodeURIComponent(code)}`,
        expires_in: Math.floor(this.options.lifetimeMs / 1000),
        interval: Math.ceil(this.options.intervalMs / 1000),
      };
    }
  }

  /** The request a person's code names, while it can still be approved. */
  async pending(input: string): Promise<DeviceCodeRecord | undefined> {
    const code = normalizeUserCode(input);
    const r = code ? await this.store.byUserCode(code) : undefined;
    return r && r.status === 'pending' && r.expiresAt > Date.now() ? r : undefined;
  }

  async settle(input: string, outcome: { status: 'approved'; approval: DeviceApproval } | { status: 'denied' }): Promise<boolean> {
    const r = await this.pending(input);
    return r ? this.store.settle(r.userCode, outcome) : false;
  }

  /** A poll of the token endpoint: the approval, once, or the OAuth error RFC 8628 §3.5 names. */
  async redeem(params: FormParams): Promise<{ record: DeviceCodeRecord; approval: DeviceApproval }> {
    const code = params.get('device_code');
    if (!code) throw invalidRequest('device_code is required');
    if (params.get('client_id') !== DEVICE_CLIENT) throw new OAuthError('invalid_client', `client_id must be "${DEVICE_CLIENT}"`, 401);
    const now = Date.now();
    const hash = tokenId(code);
    const r = await this.store.poll(hash, now);
    if (!r) throw new OAuthError('invalid_grant', 'unknown device_code');
    if (r.expiresAt <= now) throw new OAuthError('expired_token', 'the device code has expired; start again');
    if (r.status === 'denied') throw new OAuthError('access_denied', 'the request was denied');
    if (r.status === 'used') throw new OAuthError('invalid_grant', 'this device code was already redeemed');
    if (r.lastPollAt !== undefined && now - r.lastPollAt < r.intervalMs) {
      await this.store.slowDown(hash, 5000);
      throw new OAuthError('slow_down', `polling faster than every ${Math.ceil(r.intervalMs / 1000)} s; wait 5 s longer between polls`);
    }
    if (r.status === 'pending' || !r.approval) throw new OAuthError('authorization_pending', 'the request has not been approved yet');
    if (!(await this.store.markUsed(hash))) throw new OAuthError('invalid_grant', 'this device code was already redeemed');
    return { record: r, approval: r.approval };
  }
}
