/**
 * The device authorization grant from the client's side (RFC 8628): ask for a code, show the
 * person where to approve it, and poll the token endpoint at the interval the server asks for,
 * waiting longer after `slow_down`, until it answers with tokens or a final error.
 */
import { OAuthTokenError, type TokenEndpointResponse } from './oauth-token-source.js';

export const DEVICE_CLIENT_ID = 'flightgate-cli';

export interface DevicePrompt {
  readonly verification_uri: string;
  readonly verification_uri_complete?: string;
  readonly user_code: string;
  readonly expires_in: number;
}

export async function deviceLogin(server: string, onPrompt: (p: DevicePrompt) => void, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<TokenEndpointResponse> {
  const base = new URL(server).origin;
  const form = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  const res = await fetch(`${base}/oauth2/device_authorization`, { method: 'POST', headers: form, body: new URLSearchParams({ client_id: DEVICE_CLIENT_ID }), signal: AbortSignal.timeout(10_000) });
  const start = (await res.json().catch(() => ({}))) as Partial<DevicePrompt> & { device_code?: string; interval?: number; error?: string; error_description?: string };
  if (!res.ok || !start.device_code || !start.user_code || !start.verification_uri) {
    throw new OAuthTokenError(start.error ?? 'invalid_response', start.error_description ?? 'the server offers no device flow (is browser sign-in configured?)', res.status);
  }
  onPrompt({ verification_uri: start.verification_uri, ...(start.verification_uri_complete ? { verification_uri_complete: start.verification_uri_complete } : {}), user_code: start.user_code, expires_in: start.expires_in ?? 600 });
  let interval = (start.interval ?? 5) * 1000;
  const deadline = Date.now() + (start.expires_in ?? 600) * 1000;
  for (;;) {
    await sleep(interval);
    const poll = await fetch(`${base}/oauth2/token`, {
      method: 'POST',
      headers: form,
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: start.device_code, client_id: DEVICE_CLIENT_ID }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await poll.json().catch(() => ({}))) as Partial<TokenEndpointResponse> & { error?: string; error_description?: string };
    if (poll.ok && typeof body.access_token === 'string') return body as TokenEndpointResponse;
    if (body.error === 'authorization_pending' && Date.now() < deadline) continue;
    if (body.error === 'slow_down') {
      interval += 5000;
      continue;
    }
    throw new OAuthTokenError(body.error ?? 'invalid_response', body.error_description ?? '', poll.status);
  }
}
