/**
 * A short-lived cache of OAuth clients for the token endpoint's hot path. A failed registry
 * lookup is not cached and drops the cache, like the user directory.
 */
import type { ClientRecord, ClientRegistry } from '../stores/client-registry.js';

export class ClientDirectory {
  private readonly entries = new Map<string, { at: number; value: Promise<ClientRecord | undefined> }>();

  constructor(
    private readonly clients: ClientRegistry,
    private readonly cacheMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(clientId: string): Promise<ClientRecord | undefined> {
    const t = this.now();
    const hit = this.entries.get(clientId);
    if (hit && t - hit.at < this.cacheMs) return hit.value;
    const value = this.clients.get(clientId).then((c) => (c && c.clientId === clientId ? c : undefined));
    if (this.entries.size > 10_000) this.entries.clear();
    this.entries.set(clientId, { at: t, value });
    value.catch(() => this.entries.clear());
    return value;
  }
}
