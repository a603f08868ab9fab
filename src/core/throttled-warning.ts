/** Logs a backend's connection errors once per outage window instead of once per retry. */
export function throttledWarning(warn: (message: string) => void, what: string, everyMs = 10_000): (err: Error) => void {
  let last = 0;
  return (err) => {
    const now = Date.now();
    if (now - last < everyMs) return;
    last = now;
    warn(`${what}: ${err.message} (calls needing it fail with UNAVAILABLE until it is back)`);
  };
}
