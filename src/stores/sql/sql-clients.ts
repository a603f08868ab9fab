/** OAuth clients in the SQL registry. */
import type { Kysely } from 'kysely';
import { alreadyExists, notFound } from '../../core/errors.js';
import type { ClientRecord, ClientRegistry } from '../client-registry.js';
import { isUniqueViolation, num, stringList, type SqlGuard } from './guard.js';
import type { ClientsTable, RegistryDatabase } from './schema.js';

const toClient = (r: ClientsTable): ClientRecord => ({
  clientId: r.client_id,
  name: r.name,
  secretHash: r.secret_hash,
  roles: stringList(r.roles),
  scopes: stringList(r.scopes),
  disabled: Number(r.disabled) !== 0,
  createdAt: num(r.created_at),
  secretRotatedAt: num(r.secret_rotated_at),
});

export class SqlClients implements ClientRegistry {
  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly guard: SqlGuard,
  ) {}

  add(client: { clientId: string; name: string; secretHash: string; roles: readonly string[]; scopes: readonly string[] }): Promise<void> {
    return this.guard(async () => {
      for (const role of client.roles) {
        if (!(await this.db.selectFrom('fg_roles').select('name').where('name', '=', role).executeTakeFirst())) {
          throw notFound(`no role "${role}" (create it with 'flightgate roles create ${role}')`);
        }
      }
      const now = Date.now();
      try {
        await this.db
          .insertInto('fg_clients')
          .values({
            client_id: client.clientId,
            name: client.name,
            secret_hash: client.secretHash,
            roles: JSON.stringify([...new Set(client.roles)]),
            scopes: JSON.stringify([...new Set(client.scopes)]),
            disabled: 0,
            created_at: now,
            secret_rotated_at: now,
          })
          .execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw alreadyExists(`client "${client.name}" already exists`);
        throw err;
      }
    });
  }

  get(idOrName: string): Promise<ClientRecord | undefined> {
    return this.guard(async () => {
      const row = await this.db
        .selectFrom('fg_clients')
        .selectAll()
        .where((eb) => eb.or([eb('client_id', '=', idOrName), eb('name', '=', idOrName)]))
        .executeTakeFirst();
      return row && toClient(row);
    });
  }

  list(): Promise<ClientRecord[]> {
    return this.guard(async () => (await this.db.selectFrom('fg_clients').selectAll().orderBy('name').execute()).map(toClient));
  }

  private async update(idOrName: string, values: Partial<ClientsTable>): Promise<ClientRecord> {
    const existing = await this.get(idOrName);
    if (!existing) throw notFound(`no client "${idOrName}"`);
    await this.guard(() => this.db.updateTable('fg_clients').set(values).where('client_id', '=', existing.clientId).execute());
    return { ...existing, ...(values.secret_hash ? { secretHash: values.secret_hash } : {}), ...(values.disabled !== undefined ? { disabled: values.disabled !== 0 } : {}) };
  }

  setSecret(idOrName: string, secretHash: string): Promise<ClientRecord> {
    return this.update(idOrName, { secret_hash: secretHash, secret_rotated_at: Date.now() });
  }

  setDisabled(idOrName: string, disabled: boolean): Promise<ClientRecord> {
    return this.update(idOrName, { disabled: disabled ? 1 : 0 });
  }

  async delete(idOrName: string): Promise<ClientRecord> {
    const existing = await this.get(idOrName);
    if (!existing) throw notFound(`no client "${idOrName}"`);
    await this.guard(() => this.db.deleteFrom('fg_clients').where('client_id', '=', existing.clientId).execute());
    return existing;
  }
}
