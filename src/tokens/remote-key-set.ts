/**
 * An external issuer's signing keys, fetched from its JWKS URI and cached. An unknown `kid`
 * triggers one refetch, then none until a cool-down has passed, so a flood of made-up kids costs
 * the issuer nothing. When the issuer is down, keys already fetched keep working; with none,
 * checks fail as unavailable, never as accepted.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JwsAlgorithm } from './jws.js';
import type { KeyResolver } from './jwt-verifier.js';
import { TokenError } from './token-error.js';

export interface RemoteKeySetOptions {
  /** Where the JWKS is; resolved lazily (discovery may be down at start). */
  readonly jwksUri: () => Promise<string>;
  readonly cacheSeconds: number;
  readonly cooldownSeconds: number;
  readonly timeoutMs?: number;
  readonly onFetch?: (outcome: 'ok' | 'failed', detail: string) => void;
}

const MAX_JWKS_BYTES = 256 * 1024;

interface Entry {
  readonly key: KeyObject;
  readonly alg?: string;
}

/** Fetches a JSON document, refusing redirects and large bodies. */
export async function fetchJson(url: string, timeoutMs: number): Promise<unknown> {
  const res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
  const text = await res.text();
  if (text.length > MAX_JWKS_BYTES) throw new Error(`${url} returned more than ${MAX_JWKS_BYTES} bytes`);
  return JSON.parse(text) as unknown;
}

export class RemoteKeySet implements KeyResolver {
  private keys = new Map<string, Entry[]>();
  private loaded = false;
  private fetchedAt = 0;
  private lastAttempt = 0;
  private lastAttemptFailed = false;
  private inflight: Promise<void> | undefined;

  constructor(
    private readonly options: RemoteKeySetOptions,
    private readonly now: () => number = Date.now,
  ) {}

  private refresh(): Promise<void> {
    this.inflight ??= this.fetchKeys().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async fetchKeys(): Promise<void> {
    this.lastAttempt = this.now();
    try {
      const uri = await this.options.jwksUri();
      const doc = await fetchJson(uri, this.options.timeoutMs ?? 3000);
      const list = (doc as { keys?: unknown }).keys;
      if (!Array.isArray(list)) throw new Error(`${uri} is not a JWKS (no "keys" array)`);
      const next = new Map<string, Entry[]>();
      for (const jwk of list.slice(0, 100) as JsonWebKey[]) {
        if (typeof jwk !== 'object' || jwk === null || (jwk.use !== undefined && jwk.use !== 'sig')) continue;
        let key: KeyObject;
        try {
          // Only the public half is ever used, even if an issuer mistakenly publishes more.
          key = createPublicKey({ key: jwk, format: 'jwk' });
        } catch {
          continue;
        }
        const kid = typeof jwk.kid === 'string' ? jwk.kid : '';
        next.set(kid, [...(next.get(kid) ?? []), { key, alg: typeof jwk.alg === 'string' ? jwk.alg : undefined }]);
      }
      this.keys = next;
      this.loaded = true;
      this.fetchedAt = this.now();
      this.lastAttemptFailed = false;
      this.options.onFetch?.('ok', `${next.size} key ids`);
    } catch (err) {
      this.lastAttemptFailed = true;
      this.options.onFetch?.('failed', err instanceof Error ? err.message : String(err));
      throw err;
    }
  }

  private find(kid: string | undefined, alg: JwsAlgorithm): KeyObject | undefined {
    const candidates = kid === undefined ? [...this.keys.values()].flat() : this.keys.get(kid);
    // Without a kid, only an issuer with a single key is unambiguous.
    if (!candidates || (kid === undefined && candidates.length !== 1)) return undefined;
    return candidates.find((e) => e.alg === undefined || e.alg === alg)?.key;
  }

  async key(kid: string | undefined, alg: JwsAlgorithm): Promise<KeyObject | undefined> {
    const now = this.now();
    const coolingDown = now - this.lastAttempt < this.options.cooldownSeconds * 1000;
    if (!this.loaded) {
      if (coolingDown && this.lastAttemptFailed) throw new TokenError('unavailable', 'the token issuer\'s keys cannot be fetched');
      await this.refresh().catch((err: unknown) => {
        throw new TokenError('unavailable', 'the token issuer\'s keys cannot be fetched', { cause: err });
      });
    } else if (now - this.fetchedAt > this.options.cacheSeconds * 1000 && !coolingDown) {
      // Stale: refresh, but keep serving the cached keys if the issuer is down.
      await this.refresh().catch(() => undefined);
    }
    const found = this.find(kid, alg);
    if (found) return found;
    if (!(now - this.lastAttempt < this.options.cooldownSeconds * 1000)) {
      await this.refresh().catch(() => undefined);
      const again = this.find(kid, alg);
      if (again) return again;
    }
    // An unknown kid while the issuer cannot be asked might be a new key: unavailable, not invalid.
    if (this.lastAttemptFailed) throw new TokenError('unavailable', 'the token issuer\'s keys cannot be fetched');
    return undefined;
  }
}
