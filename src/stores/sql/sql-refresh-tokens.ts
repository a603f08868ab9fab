/** Refresh-token families in the SQL registry: one transaction per rotation decides reuse. */
import type { Kysely, Transaction } from 'kysely';
import type { RefreshFamily, RefreshTokenStore, RotationResult, SubjectKind } from '../refresh-token-store.js';
import { num, optNum, stringList, type SqlGuard } from './guard.js';
import type { RefreshFamiliesTable, RegistryDatabase } from './schema.js';

type Db = Kysely<RegistryDatabase> | Transaction<RegistryDatabase>;

/** Successors one refresh token may have: the first use and the replays its grace allows. */
const MAX_SUCCESSORS = 3;

const toFamily = (r: RefreshFamiliesTable): RefreshFamily => ({
  familyId: r.family_id,
  clientId: r.client_id ?? undefined,
  subject: r.subject,
  subjectKind: r.subject_kind as SubjectKind,
  subjectIssuer: r.subject_issuer ?? undefined,
  scope: r.scope,
  roles: stringList(r.roles),
  createdAt: num(r.created_at),
  expiresAt: num(r.expires_at),
  revokedAt: optNum(r.revoked_at),
});

export class SqlRefreshTokens implements RefreshTokenStore {
  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly guard: SqlGuard,
  ) {}

  create(family: Omit<RefreshFamily, 'revokedAt'>, tokenHash: string): Promise<void> {
    return this.guard(() =>
      this.db.transaction().execute(async (tx) => {
        await tx
          .insertInto('fg_refresh_families')
          .values({
            family_id: family.familyId,
            client_id: family.clientId ?? null,
            subject: family.subject,
            subject_kind: family.subjectKind,
            subject_issuer: family.subjectIssuer ?? null,
            scope: family.scope,
            roles: JSON.stringify(family.roles),
            created_at: family.createdAt,
            expires_at: family.expiresAt,
            revoked_at: null,
            revoked_reason: null,
          })
          .execute();
        await tx.insertInto('fg_refresh_tokens').values({ token_hash: tokenHash, family_id: family.familyId, parent_hash: null, issued_at: family.createdAt, used_at: null }).execute();
      }),
    );
  }

  private async family(db: Db, familyId: string): Promise<RefreshFamily | undefined> {
    const row = await db.selectFrom('fg_refresh_families').selectAll().where('family_id', '=', familyId).executeTakeFirst();
    return row && toFamily(row);
  }

  rotate(tokenHash: string, successorHash: string, now: number, graceMs: number): Promise<RotationResult> {
    return this.guard(() =>
      this.db.transaction().execute(async (tx): Promise<RotationResult> => {
        const token = await tx.selectFrom('fg_refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
        if (!token) return { kind: 'unknown' };
        const family = await this.family(tx, token.family_id);
        if (!family) return { kind: 'unknown' };
        if (family.revokedAt !== undefined) return { kind: 'revoked', family };
        if (family.expiresAt <= now) return { kind: 'expired', family };
        const successor = { token_hash: successorHash, family_id: family.familyId, parent_hash: tokenHash, issued_at: now, used_at: null };

        if (token.used_at === null) {
          // Conditional, so that of two concurrent uses exactly one is the first.
          const first = await tx.updateTable('fg_refresh_tokens').set({ used_at: now }).where('token_hash', '=', tokenHash).where('used_at', 'is', null).executeTakeFirst();
          if (Number(first.numUpdatedRows) === 1) {
            await tx.insertInto('fg_refresh_tokens').values(successor).execute();
            return { kind: 'rotated', family };
          }
        }
        const usedAt = num((await tx.selectFrom('fg_refresh_tokens').select('used_at').where('token_hash', '=', tokenHash).executeTakeFirstOrThrow()).used_at ?? now);
        // Within the grace the first answer may have been lost, or two requests raced: another
        // successor is issued beside the first, which stays valid (a replay must not take the
        // family from the client that holds it). A few at most, so a stolen token cannot fan out.
        if (now - usedAt < graceMs) {
          const siblings = await tx.selectFrom('fg_refresh_tokens').select('token_hash').where('parent_hash', '=', tokenHash).execute();
          if (siblings.length >= MAX_SUCCESSORS) return { kind: 'graceExhausted', family };
          await tx.insertInto('fg_refresh_tokens').values(successor).execute();
          return { kind: 'rotated', family, grace: true };
        }
        await tx.updateTable('fg_refresh_families').set({ revoked_at: now, revoked_reason: 'refresh token reused' }).where('family_id', '=', family.familyId).execute();
        return { kind: 'reused', family: { ...family, revokedAt: now } };
      }),
    );
  }

  familyOf(tokenHash: string): Promise<{ family: RefreshFamily; used: boolean } | undefined> {
    return this.guard(async () => {
      const token = await this.db.selectFrom('fg_refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
      if (!token) return undefined;
      const family = await this.family(this.db, token.family_id);
      return family && { family, used: token.used_at !== null };
    });
  }

  revokeFamily(familyId: string, now: number, reason: string): Promise<void> {
    return this.guard(async () => {
      await this.db.updateTable('fg_refresh_families').set({ revoked_at: now, revoked_reason: reason }).where('family_id', '=', familyId).where('revoked_at', 'is', null).execute();
    });
  }

  revokeFamiliesOf(filter: { clientId?: string; subject?: string }, now: number, reason: string): Promise<number> {
    return this.guard(async () => {
      let q = this.db.updateTable('fg_refresh_families').set({ revoked_at: now, revoked_reason: reason }).where('revoked_at', 'is', null);
      if (filter.clientId !== undefined) q = q.where('client_id', '=', filter.clientId);
      if (filter.subject !== undefined) q = q.where('subject', '=', filter.subject);
      return Number((await q.executeTakeFirst()).numUpdatedRows);
    });
  }
}
