/**
 * A short-lived cache over the registry for the per-call path: a user's state (enabled, roles,
 * sessions-not-before) and the policy built from all grants. Entries older than `cacheMs` are
 * read again, so a user disabled from the CLI is refused within that time; when the registry
 * cannot be read, lookups fail with UNAVAILABLE instead of serving stale answers.
 */
import { Policy } from '../authz/policy.js';
import type { Registry, UserRecord } from '../stores/registry.js';

interface Entry<T> {
  at: number;
  value: Promise<T>;
}

export class UserDirectory {
  private readonly users = new Map<string, Entry<UserRecord | undefined>>();
  private policyEntry: Entry<Policy> | undefined;

  constructor(
    readonly registry: Registry,
    private readonly cacheMs: number,
  ) {}

  private fresh<T>(entry: Entry<T> | undefined, now: number): entry is Entry<T> {
    return entry !== undefined && now - entry.at < this.cacheMs;
  }

  user(name: string, now = Date.now()): Promise<UserRecord | undefined> {
    const hit = this.users.get(name);
    if (this.fresh(hit, now)) return hit.value;
    const value = this.registry.getUser(name);
    // Concurrent callers share one lookup; a failed lookup is not cached.
    const entry = { at: now, value };
    if (this.users.size > 10_000) this.users.clear();
    this.users.set(name, entry);
    value.catch(() => this.invalidateAll());
    return value;
  }

  policy(now = Date.now()): Promise<Policy> {
    if (this.fresh(this.policyEntry, now)) return this.policyEntry.value;
    const value = this.registry.grants().then((grants) => new Policy(grants));
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
    this.users.clear();
    this.policyEntry = undefined;
  }

  /** Forgets what is cached about `name` (after a change made in this process). */
  forget(name: string): void {
    this.users.delete(name);
    this.policyEntry = undefined;
  }
}
