/** /readyz: whether each backend a server needs answers now, each check with a time limit. */
import type { ReadinessReport } from './core/readiness.js';

const READINESS_TIMEOUT_MS = 2000;

/** Runs one check with a time limit; never throws. */
async function probe(check: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${READINESS_TIMEOUT_MS} ms`)), READINESS_TIMEOUT_MS);
      }),
    ]);
    return 'ok';
  } catch (err) {
    return `unavailable: ${err instanceof Error ? err.message : String(err)}`.slice(0, 200);
  } finally {
    clearTimeout(timer);
  }
}

/** A readiness report over named checks, run at once. */
export function readinessOf(checks: Record<string, () => Promise<unknown>>): () => Promise<ReadinessReport> {
  return async () => {
    const names = Object.keys(checks);
    const results = await Promise.all(names.map((n) => probe(checks[n]!)));
    const report = Object.fromEntries(names.map((n, i) => [n, results[i]!]));
    return { ready: results.every((r) => r === 'ok'), checks: report };
  };
}
