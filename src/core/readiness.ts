/** Whether the backends a server needs answer now (for /readyz). */
export interface ReadinessReport {
  readonly ready: boolean;
  /** Each check's result: `ok`, or why not. */
  readonly checks: Readonly<Record<string, string>>;
}
