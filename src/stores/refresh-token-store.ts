/**
 * Refresh-token families (RFC 9700 §4.14): every use of a refresh token issues a successor in
 * the same family; presenting a token that was already used, after a short grace, revokes the
 * family, every branch of it. Tokens are stored only as SHA-256.
 */
export type SubjectKind = 'user' | 'client' | 'external';

export interface RefreshFamily {
  readonly familyId: string;
  readonly clientId?: string;
  readonly subject: string;
  readonly subjectKind: SubjectKind;
  /** For `external` subjects: the issuer whose subject it is. */
  readonly subjectIssuer?: string;
  readonly scope: string;
  readonly roles: readonly string[];
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly revokedAt?: number;
}

export type RotationResult =
  /** `grace`: the token had been used already, within the grace: a further successor was issued beside the first. */
  | { readonly kind: 'rotated'; readonly family: RefreshFamily; readonly grace?: boolean }
  /** Used again within the grace more often than allowed: refused, but nothing is revoked. */
  | { readonly kind: 'graceExhausted'; readonly family: RefreshFamily }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'revoked'; readonly family: RefreshFamily }
  | { readonly kind: 'expired'; readonly family: RefreshFamily }
  /** A used token came back after the grace: the family is now revoked. */
  | { readonly kind: 'reused'; readonly family: RefreshFamily };

export interface RefreshTokenStore {
  /** Starts a family with its first token. */
  create(family: Omit<RefreshFamily, 'revokedAt'>, tokenHash: string): Promise<void>;
  /**
   * Atomically uses `tokenHash` and records `successorHash` as its replacement. A token used
   * again within `graceMs` (a lost response, or two requests racing) gets a further successor,
   * and the earlier ones stay valid; used again after the grace, it revokes the whole family.
   */
  rotate(tokenHash: string, successorHash: string, now: number, graceMs: number): Promise<RotationResult>;
  /** The family a token belongs to, used or not (introspection, revocation). */
  familyOf(tokenHash: string): Promise<{ family: RefreshFamily; used: boolean } | undefined>;
  revokeFamily(familyId: string, now: number, reason: string): Promise<void>;
  /** Revokes every family of a client or subject (client disabled, secret rotated, user disabled). */
  revokeFamiliesOf(filter: { clientId?: string; subject?: string }, now: number, reason: string): Promise<number>;
}
