/**
 * A short-lived cache over the registry for the per-call path: a user's state (enabled, roles,
 * sessions-not-before) and the policy built from all grants. Entries older than `cacheMs` are
 * read again, so a user disabled from the CLI is refused within that time; when the registry
 * cannot be read, lookups fail with UNAVAILABLE instead of serving stale answers.
 */
import { Policy } from '../authz/policy.js';
import type { GrantSource } from '../stores/role-store.js';
import type { UserRecord, UserStore } from '../stores/user-store.js';

interface Entry<T> {
  at: number;
  value: Promise<T>;
}

export class UserDirectory {
  private readonly cachedUsers = new Map<string, Entry<UserRecord | undefined>>();
  private policyEntry: Entry<Policy> | undefined;

  constructor(
    /** Read directly where a cached answer will not do (a login must see a changed password). */
    readonly users: UserStore,
    private readonly grantSource: GrantSource,
    private readonly cacheMs: number,
  ) {}

  private fresh<T>(entry: Entry<T> | undefined, now: number): entry is Entry<T> {
    return entry !== undefined && now - entry.at < this.cacheMs;
  }

  user(name: string, now = Date.now()): Promise<UserRecord | undefined> {
    const hit = this.cachedUsers.get(name);
    if (this.fresh(hit, now)) return hit.value;
    const value = this.users.get(name);
    // Concurrent callers share one lookup; a failed lookup is not cached.
    const entry = { at: now, value };
    if (this.cachedUsers.size > 10_000) this.cachedUsers.clear();
    this.cachedUsers.set(name, entry);
    value.catch(() => this.invalidateAll());
    return value;
  }

  policy(now = Date.now()): Promise<Policy> {
    if (this.fresh(this.policyEntry, now)) return this.policyEntry.value;
    const value = this.grantSource.grants().then((grants) => new Policy(grants));
    const entry = { at: now, value };
    this.policyEntry = entry;
    value.catch(() => this.invalidateAll());
    return value;
  }

  /**
   * The registry failed to answer: drop everything cached, so that every later call asks it again
   * and fails closed (UNAVAILABLE) until it is back, rather than living on cached answers.
   */
  invalidateAll(): void {
    this.cachedUsers.clear();
    this.policyEntry = undefined;
  }

  /** Forgets what is cached about `name` and the policy, which its roles feed (after a change made in this process). */
  forget(name: string): void {
    this.cachedUsers.delete(name);
    this.policyEntry = undefined;
  }
}
