/**
 * The port behind the login throttle: per subject (an account, a client address, an account at
 * one address) a count of recent failures, the logins being verified right now, a lock, and
 * whether the subject once logged in successfully ("known"). In memory for one process, or in
 * Redis so that replicas share one count and an attacker spreading guesses over servers gains
 * nothing.
 *
 * An attempt is reserved before its password is verified and released after: reserving is one
 * atomic step that refuses when the subject is locked, or when the failures so far plus the
 * attempts in flight could reach the lockout. That is what keeps a burst of concurrent guesses
 * from all being verified before the first failure is counted.
 */
export interface SubjectLimits {
  /** Failures that lock the subject; a reservation is refused while failures + in flight reach it. */
  readonly maxFailures: number;
  /** Attempts that may be verified at the same time. */
  readonly maxInFlight: number;
  readonly lockMs: number;
  /** A failure is forgotten this long after the last one. */
  readonly windowMs: number;
}

export type Reservation =
  | { readonly kind: 'reserved'; readonly failures: number; readonly known: boolean }
  | { readonly kind: 'locked'; readonly retryMs: number }
  /** Too many attempts in flight, or enough in flight to reach the lockout. */
  | { readonly kind: 'busy' };

/** How a reserved attempt ended, for one subject. */
export type AttemptOutcome =
  /** A wrong password: counted, and may lock the subject. */
  | { readonly kind: 'failure' }
  /** A success that clears the subject's failures and marks it known until `knownUntil`. */
  | { readonly kind: 'cleared'; readonly knownUntil: number }
  /** Neither counts (a success that must not reset this subject, or the attempt was abandoned). */
  | { readonly kind: 'released' };

export interface ReleaseResult {
  /** Failures counted after this release (0 right after a lock). */
  readonly failures: number;
  /** This release started a lock. */
  readonly locked: boolean;
}

export interface AttemptCounter {
  readonly kind: string;
  reserve(subject: string, limits: SubjectLimits, now: number): Promise<Reservation>;
  release(subject: string, outcome: AttemptOutcome, limits: SubjectLimits, now: number): Promise<ReleaseResult>;
  close(): Promise<void>;
}

/** How long an in-flight mark survives a replica that died mid-verification (it is released normally). */
export const IN_FLIGHT_TTL_MS = 60_000;
