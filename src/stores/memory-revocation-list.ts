/** Revoked token ids in this process's memory: the embedded default. */
import type { RevocationList } from './revocation-list.js';

export class MemoryRevocationList implements RevocationList {
  readonly kind = 'memory';
  private readonly revoked = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  async revoke(jti: string, untilMs: number): Promise<void> {
    if (this.revoked.size > 100_000) this.prune();
    this.revoked.set(jti, untilMs);
  }

  async isRevoked(jti: string): Promise<boolean> {
    const until = this.revoked.get(jti);
    return until !== undefined && until > this.now();
  }

  private prune(): void {
    const t = this.now();
    for (const [jti, until] of this.revoked) if (until <= t) this.revoked.delete(jti);
  }

  async close(): Promise<void> {
    this.revoked.clear();
  }
}
