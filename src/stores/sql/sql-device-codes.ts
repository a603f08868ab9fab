/** Device authorization requests in the SQL registry. */
import type { Kysely } from 'kysely';
import type { DeviceApproval, DeviceCodeRecord, DeviceCodeStore } from '../device-code-store.js';
import { num, optNum, stringList, type SqlGuard } from './guard.js';
import type { DeviceCodesTable, RegistryDatabase } from './schema.js';

const toRecord = (r: DeviceCodesTable): DeviceCodeRecord => ({
  deviceHash: r.device_hash,
  userCode: r.user_code,
  clientId: r.client_id,
  scope: r.scope,
  createdAt: num(r.created_at),
  expiresAt: num(r.expires_at),
  intervalMs: num(r.interval_ms),
  lastPollAt: optNum(r.last_poll_at),
  status: r.status as DeviceCodeRecord['status'],
  ...(r.subject
    ? { approval: { subject: r.subject, subjectKind: r.subject_kind as DeviceApproval['subjectKind'], ...(r.subject_issuer ? { subjectIssuer: r.subject_issuer } : {}), roles: stringList(r.roles ?? '[]') } }
    : {}),
});

export class SqlDeviceCodes implements DeviceCodeStore {
  constructor(
    private readonly db: Kysely<RegistryDatabase>,
    private readonly guard: SqlGuard,
  ) {}

  add(r: Omit<DeviceCodeRecord, 'status' | 'approval' | 'lastPollAt'>): Promise<void> {
    return this.guard(async () => {
      await this.db
        .insertInto('fg_device_codes')
        .values({ device_hash: r.deviceHash, user_code: r.userCode, client_id: r.clientId, scope: r.scope, created_at: r.createdAt, expires_at: r.expiresAt, interval_ms: r.intervalMs, last_poll_at: null, status: 'pending', subject: null, subject_kind: null, subject_issuer: null, roles: null })
        .execute();
    });
  }

  byUserCode(userCode: string): Promise<DeviceCodeRecord | undefined> {
    return this.guard(async () => {
      const row = await this.db.selectFrom('fg_device_codes').selectAll().where('user_code', '=', userCode).executeTakeFirst();
      return row && toRecord(row);
    });
  }

  poll(deviceHash: string, now: number): Promise<DeviceCodeRecord | undefined> {
    return this.guard(() =>
      this.db.transaction().execute(async (tx) => {
        const row = await tx.selectFrom('fg_device_codes').selectAll().where('device_hash', '=', deviceHash).executeTakeFirst();
        if (!row) return undefined;
        // Only the poll that moves last_poll_at from what it read counts (SQLite has no row locks; the condition serialises).
        const moved = await tx
          .updateTable('fg_device_codes')
          .set({ last_poll_at: now })
          .where('device_hash', '=', deviceHash)
          .where((eb) => (row.last_poll_at === null ? eb('last_poll_at', 'is', null) : eb('last_poll_at', '=', row.last_poll_at)))
          .executeTakeFirst();
        if (Number(moved.numUpdatedRows) === 0) return { ...toRecord(row), lastPollAt: now };
        return toRecord(row);
      }),
    );
  }

  slowDown(deviceHash: string, byMs: number): Promise<void> {
    return this.guard(async () => {
      await this.db.updateTable('fg_device_codes').set((eb) => ({ interval_ms: eb('interval_ms', '+', byMs) })).where('device_hash', '=', deviceHash).execute();
    });
  }

  settle(userCode: string, outcome: { status: 'approved'; approval: DeviceApproval } | { status: 'denied' }): Promise<boolean> {
    return this.guard(async () => {
      const a = outcome.status === 'approved' ? outcome.approval : undefined;
      const r = await this.db
        .updateTable('fg_device_codes')
        .set({ status: outcome.status, subject: a?.subject ?? null, subject_kind: a?.subjectKind ?? null, subject_issuer: a?.subjectIssuer ?? null, roles: a ? JSON.stringify(a.roles) : null })
        .where('user_code', '=', userCode)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    });
  }

  markUsed(deviceHash: string): Promise<boolean> {
    return this.guard(async () => {
      const r = await this.db.updateTable('fg_device_codes').set({ status: 'used' }).where('device_hash', '=', deviceHash).where('status', '=', 'approved').executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    });
  }

  countPending(now: number): Promise<number> {
    return this.guard(async () => {
      const r = await this.db.selectFrom('fg_device_codes').select((eb) => eb.fn.countAll<number | string>().as('n')).where('status', '=', 'pending').where('expires_at', '>', now).executeTakeFirst();
      return Number(r?.n ?? 0);
    });
  }

  purge(before: number): Promise<void> {
    return this.guard(async () => {
      await this.db.deleteFrom('fg_device_codes').where('expires_at', '<', before).execute();
    });
  }
}
