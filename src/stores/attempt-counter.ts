/**
 * The port behind the login throttle: failure counters and lockouts by key (an account or a
 * client address). In memory for one process, or in Redis so that replicas share one count and
 * an attacker spreading guesses over servers gains nothing.
 */
export interface AttemptCounter {
  readonly kind: string;
  /** Adds a failure to each key and returns the new counts; a count is forgotten `windowMs` after its last failure. */
  increment(keys: readonly string[], windowMs: number): Promise<number[]>;
  clear(keys: readonly string[]): Promise<void>;
  lock(key: string, ms: number): Promise<void>;
  /** Milliseconds until the last lock among `keys` ends, or 0. */
  lockedFor(keys: readonly string[]): Promise<number>;
  close(): Promise<void>;
}
