/**
 * Tokens whose signature and claims were already checked, until they expire. Checking an ES256
 * signature costs far more than a call; the cache makes a repeated bearer cost a map lookup.
 * Revocation is not cached: callers check it on every use.
 */
export class VerifiedTokenCache<T> {
  private readonly entries = new Map<string, { value: T; untilMs: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(token: string): T | undefined {
    const hit = this.entries.get(token);
    if (!hit) return undefined;
    if (hit.untilMs <= this.now()) {
      this.entries.delete(token);
      return undefined;
    }
    return hit.value;
  }

  set(token: string, value: T, untilMs: number): void {
    if (this.maxEntries <= 0) return;
    // Setting a token again (two callers verified it at once) replaces it and evicts nothing.
    if (this.entries.delete(token)) return void this.entries.set(token, { value, untilMs });
    if (this.entries.size >= this.maxEntries) {
      // Oldest first: a Map iterates in insertion order.
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, { value, untilMs });
  }

  delete(token: string): void {
    this.entries.delete(token);
  }

  get size(): number {
    return this.entries.size;
  }
}
