/** What every SQL adapter shares: backend failures become UNAVAILABLE, unique violations ALREADY_EXISTS. */
import { alreadyExists, FlightgateError, unavailable } from '../../core/errors.js';

export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

export type SqlGuard = <T>(work: () => Promise<T>) => Promise<T>;

export function sqlGuard(kind: string): SqlGuard {
  return async (work) => {
    try {
      return await work();
    } catch (err) {
      if (err instanceof FlightgateError) throw err;
      if (isUniqueViolation(err)) throw alreadyExists('already exists');
      throw unavailable(`the registry (${kind}) is unavailable`, err);
    }
  };
}

export const num = (v: number | string): number => Number(v);
export const optNum = (v: number | string | null | undefined): number | undefined => (v === null || v === undefined ? undefined : Number(v));

/** Lists of names are stored as JSON text so SQLite and PostgreSQL share one schema. */
export function stringList(text: string): string[] {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}
