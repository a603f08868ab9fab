/** Token signing keys in the SQL registry, shared by every replica. */
import type { Kysely } from 'kysely';
import type { SigningKeyStore, StoredSigningKey } from '../signing-key-store.js';
import { num, optNum, type SqlGuard } from './guard.js';
import type { RegistryDatabase, SigningKeysTable } from './schema.js';

const toKey = (r: SigningKeysTable): StoredSigningKey => ({
  kid: r.kid,
  alg: r.alg,
  publicJwk: r.public_jwk,
  encryptedPrivateKey: r.private_key,
  createdAt: num(r.created_at),
  retireAt: optNum(r.retire_at),
});

const toRow = (k: StoredSigningKey): SigningKeysTable => ({
  kid: k.kid,
  alg: k.alg,
  public_jwk: k.publicJwk,
  private_key: k.encryptedPrivateKey,
  created_at: k.createdAt,
  retire_at: k.retireAt ?? null,
});

export class SqlSigningKeys implements SigningKeyStore {
  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly guard: SqlGuard,
  ) {}

  list(): Promise<StoredSigningKey[]> {
    return this.guard(async () => (await this.db.selectFrom('fg_signing_keys').selectAll().orderBy('created_at').execute()).map(toKey));
  }

  rotate(key: StoredSigningKey, retireOthersAt: number): Promise<void> {
    return this.guard(() =>
      this.db.transaction().execute(async (tx) => {
        await tx.updateTable('fg_signing_keys').set({ retire_at: retireOthersAt }).where('retire_at', 'is', null).execute();
        await tx.insertInto('fg_signing_keys').values(toRow(key)).execute();
      }),
    );
  }

  addFirst(key: StoredSigningKey): Promise<boolean> {
    return this.guard(() =>
      this.db.transaction().execute(async (tx) => {
        const any = await tx.selectFrom('fg_signing_keys').select('kid').where('retire_at', 'is', null).executeTakeFirst();
        if (any) return false;
        await tx.insertInto('fg_signing_keys').values(toRow(key)).execute();
        return true;
      }),
    );
  }
}
