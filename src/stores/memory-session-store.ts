/** Sessions in this process's memory: the embedded default; lost on restart, not shared. */
import { sessionEnd, type SessionRecord, type SessionStore } from './session-store.js';

export class MemorySessionStore implements SessionStore {
  readonly kind = 'memory';
  private readonly sessions = new Map<string, SessionRecord>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(sweepEveryMs = 60_000) {
    // Ended sessions are refused on lookup anyway; the sweep only bounds memory.
    this.sweeper = setInterval(() => this.sweep(Date.now()), sweepEveryMs);
    this.sweeper.unref();
  }

  private sweep(now: number): void {
    for (const [id, r] of this.sessions) if (sessionEnd(r) <= now) this.sessions.delete(id);
  }

  async put(id: string, record: SessionRecord): Promise<void> {
    this.sessions.set(id, record);
  }

  async get(id: string, now: number): Promise<SessionRecord | undefined> {
    const r = this.sessions.get(id);
    if (!r) return undefined;
    if (sessionEnd(r) <= now) {
      this.sessions.delete(id);
      return undefined;
    }
    return r;
  }

  async touch(id: string, now: number): Promise<void> {
    const r = this.sessions.get(id);
    // An ended session stays ended: use after the end must not bring it back.
    if (r && sessionEnd(r) > now) this.sessions.set(id, { ...r, lastSeenAt: now });
  }

  async markRotated(id: string, now: number, graceUntil: number, successor: string): Promise<boolean> {
    const r = this.sessions.get(id);
    if (!r || r.rotatedAt !== undefined || sessionEnd(r) <= now) return false;
    this.sessions.set(id, { ...r, rotatedAt: now, graceUntil, successor });
    return true;
  }

  async delete(id: string): Promise<boolean> {
    return this.sessions.delete(id);
  }

  async deleteUser(user: string): Promise<number> {
    let n = 0;
    const now = Date.now();
    for (const [id, r] of this.sessions) {
      if (r.user === user) {
        this.sessions.delete(id);
        if (sessionEnd(r) > now) n++;
      }
    }
    return n;
  }

  async count(): Promise<number> {
    this.sweep(Date.now());
    return this.sessions.size;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.sessions.clear();
  }
}
