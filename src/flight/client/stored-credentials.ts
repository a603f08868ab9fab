/**
 * The tokens `flightgate login` saved, per server: `$XDG_CONFIG_HOME/flightgate/credentials.json`
 * (default `~/.config/flightgate/`), readable by its owner only (file 0600, directory 0700).
 * Refresh tokens rotate at every use, so whoever uses one writes its successor back.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { OAuthTokenSource, type TokenEndpointResponse } from './oauth-token-source.js';

export interface StoredCredentials {
  readonly access_token: string;
  readonly refresh_token?: string;
  /** ms since the epoch. */
  readonly expires_at: number;
}

export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'flightgate', 'credentials.json');
}

/** The server's base URL as the key: scheme, host and port, no trailing slash. */
const keyOf = (server: string): string => new URL(server).origin;

function readAll(path: string): Record<string, StoredCredentials> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, StoredCredentials>) : {};
  } catch {
    return {};
  }
}

export function readCredentials(server: string, path = credentialsPath()): StoredCredentials | undefined {
  return readAll(path)[keyOf(server)];
}

export function saveCredentials(server: string, response: TokenEndpointResponse, path = credentialsPath()): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  chmodSync(dirname(path), 0o700);
  const all = readAll(path);
  all[keyOf(server)] = { access_token: response.access_token, ...(response.refresh_token ? { refresh_token: response.refresh_token } : {}), expires_at: Date.now() + response.expires_in * 1000 };
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/**
 * A token source from what `flightgate login` saved for `server` (the token service's base URL):
 * its refresh token, renewed in the background, each new refresh token written back.
 */
export async function storedTokenSource(server: string, path = credentialsPath()): Promise<OAuthTokenSource> {
  const saved = readCredentials(server, path);
  if (!saved?.refresh_token) throw new Error(`no saved sign-in for ${keyOf(server)} in ${path}: run flightgate login --server ${keyOf(server)}`);
  const tokenUrl = `${keyOf(server)}/oauth2/token`;
  const source = await OAuthTokenSource.fromRefreshToken({ tokenUrl, refreshToken: saved.refresh_token, onRenewed: (r) => saveCredentials(server, r, path) });
  // That first use rotated the refresh token: the saved one is spent, its successor goes in its place.
  saveCredentials(server, { access_token: source.accessToken, token_type: 'Bearer', expires_in: 0, ...(source.refreshToken ? { refresh_token: source.refreshToken } : {}) }, path);
  return source;
}
