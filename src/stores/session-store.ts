/**
 * The session store port. Sessions are keyed by the SHA-256 of their token, so the store never
 * holds a usable token. Implementations: in this process's memory, or Redis shared by replicas.
 */
export interface SessionRecord {
  readonly user: string;
  readonly roles: readonly string[];
  /** ms since the epoch. */
  readonly createdAt: number;
  /** Absolute end of the session. */
  readonly expiresAt: number;
  /** Idle timeout in ms: the session ends this long after `lastSeenAt`. */
  readonly idleMs: number;
  readonly lastSeenAt: number;
  /** Set once when a fresh token replaced this one; the old one lives until `graceUntil`. */
  readonly rotatedAt?: number;
  readonly graceUntil?: number;
  /** The session that replaced this one, and the one this replaced: ending one ends the other. */
  readonly successor?: string;
  readonly predecessor?: string;
}

/** When a record stops being valid, whichever limit comes first. */
export function sessionEnd(r: SessionRecord): number {
  return Math.min(r.expiresAt, r.lastSeenAt + r.idleMs, r.graceUntil ?? Infinity);
}

export interface SessionStore {
  readonly kind: string;
  put(id: string, record: SessionRecord): Promise<void>;
  /** The live record, or undefined once it has ended or been revoked. */
  get(id: string, now: number): Promise<SessionRecord | undefined>;
  /** Records use at `now`, pushing the idle deadline out. */
  touch(id: string, now: number): Promise<void>;
  /** Marks a session replaced by `successor`; true only for the one caller that did it first. */
  markRotated(id: string, now: number, graceUntil: number, successor: string): Promise<boolean>;
  delete(id: string): Promise<boolean>;
  /** Ends every session of `user`; returns how many. */
  deleteUser(user: string): Promise<number>;
  /** How many sessions are live (for health and metrics; may be approximate). */
  count(): Promise<number>;
  close(): Promise<void>;
}
