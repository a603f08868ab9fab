/**
 * Revoked JWT ids (`jti`), each kept until the token would have expired anyway. In Redis, every
 * replica sees a revocation on its next check; in memory, only this process does.
 */
export interface RevocationList {
  readonly kind: string;
  revoke(jti: string, untilMs: number): Promise<void>;
  isRevoked(jti: string): Promise<boolean>;
  close(): Promise<void>;
}
