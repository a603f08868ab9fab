/** Attempt counters in this process's memory: the embedded default. */
import type { AttemptCounter, AttemptOutcome, ReleaseResult, Reservation, SubjectLimits } from './attempt-counter.js';

const MAX_SUBJECTS = 100_000;

interface SubjectState {
  failures: number;
  lastFailureAt: number;
  inFlight: number;
  lockedUntil: number;
  knownUntil: number;
}

export class MemoryAttemptCounter implements AttemptCounter {
  readonly kind = 'memory';
  private readonly subjects = new Map<string, SubjectState>();

  private state(subject: string, limits: SubjectLimits, now: number): SubjectState {
    let s = this.subjects.get(subject);
    if (!s) {
      if (this.subjects.size >= MAX_SUBJECTS) this.prune(now);
      s = { failures: 0, lastFailureAt: 0, inFlight: 0, lockedUntil: 0, knownUntil: 0 };
      this.subjects.set(subject, s);
    }
    if (s.failures > 0 && now - s.lastFailureAt > limits.windowMs) s.failures = 0;
    return s;
  }

  async reserve(subject: string, limits: SubjectLimits, now: number): Promise<Reservation> {
    const s = this.state(subject, limits, now);
    if (s.lockedUntil > now) return { kind: 'locked', retryMs: s.lockedUntil - now };
    if (s.failures + s.inFlight >= limits.maxFailures || s.inFlight >= limits.maxInFlight) return { kind: 'busy' };
    s.inFlight++;
    return { kind: 'reserved', failures: s.failures, known: s.knownUntil > now };
  }

  async release(subject: string, outcome: AttemptOutcome, limits: SubjectLimits, now: number): Promise<ReleaseResult> {
    const s = this.state(subject, limits, now);
    s.inFlight = Math.max(0, s.inFlight - 1);
    let locked = false;
    if (outcome.kind === 'failure') {
      s.failures++;
      s.lastFailureAt = now;
      if (s.failures >= limits.maxFailures) {
        s.lockedUntil = now + limits.lockMs;
        s.failures = 0;
        locked = true;
      }
    } else if (outcome.kind === 'cleared') {
      s.failures = 0;
      s.knownUntil = Math.max(s.knownUntil, outcome.knownUntil);
    }
    return { failures: s.failures, locked };
  }

  /** Drops subjects that hold nothing any more; if that is not enough, the oldest, rather than grow without bound. */
  private prune(now: number): void {
    for (const [k, s] of this.subjects) {
      if (s.inFlight === 0 && s.lockedUntil <= now && s.knownUntil <= now && (s.failures === 0 || now - s.lastFailureAt > 3_600_000)) this.subjects.delete(k);
    }
    for (const k of this.subjects.keys()) {
      if (this.subjects.size < MAX_SUBJECTS) break;
      this.subjects.delete(k);
    }
  }

  async close(): Promise<void> {
    this.subjects.clear();
  }
}
