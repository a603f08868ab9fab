/** Server secrets that every replica must share (the ticket key, for one). */
export interface SecretStore {
  /** Returns the named secret, creating it with `create()` if absent (first writer wins). */
  get(name: string, create: () => string): Promise<string>;
  /** Replaces the named secret's value, but only if it is still `expected` (another replica may have done it). */
  replace(name: string, expected: string, value: string): Promise<void>;
}
