/** A token bucket per key kept where every replica counts (Redis): the shared per-principal call rate. */
export interface RateCounter {
  /**
   * Takes `amount` from `key`'s bucket (capacity `capacity`, refilled at `perSecond`); false, and
   * nothing taken, when it does not hold that much. Throws UNAVAILABLE when the store is down.
   */
  take(key: string, amount: number, capacity: number, perSecond: number): Promise<boolean>;
}
