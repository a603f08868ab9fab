/**
 * Access tokens from flightgate's OAuth 2 token endpoint for a FlightClient, renewed in the
 * background before they expire: with the refresh token when there is one (each use returns a
 * new one, which replaces it), else by asking for a new token with the client credentials.
 */
export interface OAuthClientCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
}

export interface TokenEndpointResponse {
  readonly access_token: string;
  readonly token_type: string;
  readonly expires_in: number;
  readonly refresh_token?: string;
  readonly scope?: string;
}

export class OAuthTokenError extends Error {
  override name = 'OAuthTokenError';
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status: number,
  ) {
    super(`token endpoint answered ${status} ${error}${description ? `: ${description}` : ''}`);
  }
}

export interface TokenSourceOptions {
  /** The token endpoint, e.g. `http://127.0.0.1:8080/oauth2/token`. */
  readonly tokenUrl: string;
  readonly client?: OAuthClientCredentials;
  readonly scope?: string;
  /** Renew once this share of a token's lifetime has passed (default 0.75). */
  readonly renewAfter?: number;
  /** Told about every renewal, e.g. to persist the newest refresh token. */
  readonly onRenewed?: (response: TokenEndpointResponse) => void;
  /** Told when a renewal fails; renewal is retried until the token expires. */
  readonly onError?: (err: Error) => void;
}

export async function requestToken(tokenUrl: string, params: Record<string, string>, client?: OAuthClientCredentials): Promise<TokenEndpointResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (client) {
    // RFC 6749 §2.3.1: each part form-encoded before Basic.
    const enc = (s: string): string => encodeURIComponent(s).replace(/%20/g, '+');
    headers.authorization = `Basic ${Buffer.from(`${enc(client.clientId)}:${enc(client.clientSecret)}`).toString('base64')}`;
  }
  const res = await fetch(tokenUrl, { method: 'POST', headers, body: new URLSearchParams(params).toString(), signal: AbortSignal.timeout(10_000) });
  const body = (await res.json().catch(() => ({}))) as Partial<TokenEndpointResponse> & { error?: string; error_description?: string };
  if (!res.ok || typeof body.access_token !== 'string') throw new OAuthTokenError(body.error ?? 'invalid_response', body.error_description ?? '', res.status);
  return body as TokenEndpointResponse;
}

export class OAuthTokenSource {
  private current: TokenEndpointResponse;
  private expiresAt: number;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private failures = 0;

  private constructor(
    private readonly options: TokenSourceOptions,
    first: TokenEndpointResponse,
  ) {
    this.current = first;
    this.expiresAt = Date.now() + first.expires_in * 1000;
    this.schedule(first.expires_in * 1000 * (options.renewAfter ?? 0.75));
  }

  /** A job's tokens: client_credentials now and at every renewal. */
  static async clientCredentials(options: TokenSourceOptions & { client: OAuthClientCredentials }): Promise<OAuthTokenSource> {
    const first = await requestToken(options.tokenUrl, { grant_type: 'client_credentials', ...(options.scope ? { scope: options.scope } : {}) }, options.client);
    return new OAuthTokenSource(options, first);
  }

  /** An external issuer's access token exchanged (RFC 8693) for ours, then renewed with refresh tokens. */
  static async exchange(options: TokenSourceOptions & { subjectToken: string }): Promise<OAuthTokenSource> {
    const first = await requestToken(
      options.tokenUrl,
      {
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: options.subjectToken,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        ...(options.scope ? { scope: options.scope } : {}),
      },
      options.client,
    );
    return new OAuthTokenSource(options, first);
  }

  /** Continues from a refresh token obtained earlier. */
  static async fromRefreshToken(options: TokenSourceOptions & { refreshToken: string }): Promise<OAuthTokenSource> {
    const first = await requestToken(options.tokenUrl, { grant_type: 'refresh_token', refresh_token: options.refreshToken }, options.client);
    return new OAuthTokenSource(options, first);
  }

  /** The access token to send now. */
  get accessToken(): string {
    return this.current.access_token;
  }

  get refreshToken(): string | undefined {
    return this.current.refresh_token;
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.renew(), Math.max(0, ms));
    this.timer.unref();
  }

  /** Renews now (also called by the timer). */
  async renew(): Promise<void> {
    try {
      const refresh = this.current.refresh_token;
      const next = refresh
        ? await requestToken(this.options.tokenUrl, { grant_type: 'refresh_token', refresh_token: refresh }, this.options.client)
        : await requestToken(this.options.tokenUrl, { grant_type: 'client_credentials', ...(this.options.scope ? { scope: this.options.scope } : {}) }, this.requireClient());
      // A refresh answer without a new refresh token keeps the old one usable.
      this.current = { ...next, refresh_token: next.refresh_token ?? refresh };
      this.expiresAt = Date.now() + next.expires_in * 1000;
      this.failures = 0;
      this.options.onRenewed?.(this.current);
      this.schedule(next.expires_in * 1000 * (this.options.renewAfter ?? 0.75));
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      this.options.onError?.(error);
      // A refused refresh token will not work later either; anything else is retried while time remains.
      if (error instanceof OAuthTokenError && error.error === 'invalid_grant') return;
      this.failures++;
      const left = this.expiresAt - Date.now();
      if (left > 0) this.schedule(Math.min(1000 * 2 ** Math.min(this.failures, 5), left / 2));
    }
  }

  private requireClient(): OAuthClientCredentials {
    if (!this.options.client) throw new Error('no refresh token and no client credentials to renew with');
    return this.options.client;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }
}
