/**
 * `npm run soak`: 200 authenticated clients against a `flightgate serve` process for 60 s (the
 * issue's bounded load test), then the report as JSON. Exits 1 on any error or when the server's
 * memory grew more than 10% after the warm-up. SOAK_CLIENTS, SOAK_SECONDS, SOAK_WARMUP_SECONDS,
 * SOAK_NUMBERS_ROWS change the shape.
 */
import { runSoak } from '../test/load/soak-run.js';

const report = await runSoak({
  clients: Number(process.env.SOAK_CLIENTS ?? 200),
  seconds: Number(process.env.SOAK_SECONDS ?? 60),
  warmupSeconds: Number(process.env.SOAK_WARMUP_SECONDS ?? 15),
  numbersRows: Number(process.env.SOAK_NUMBERS_ROWS ?? 100_000),
  log: (line) => console.error(line),
});
const { errors, ...figures } = report;
console.log(JSON.stringify({ bench: 'soak', ...figures, errorCount: errors.length, firstErrors: errors.slice(0, 10) }));
const problems = [
  ...(errors.length ? [`${errors.length} errors`] : []),
  ...(report.rssMiB.growth > 0.1 ? [`memory grew ${(report.rssMiB.growth * 100).toFixed(1)}% after the warm-up`] : []),
];
if (problems.length) {
  console.error(`soak failed: ${problems.join('; ')}`);
  process.exit(1);
}
console.error('soak passed: no errors, memory within 10% of its size after the warm-up');
