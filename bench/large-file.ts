/**
 * Serving a file larger than memory should need: writes a ~2 GB Arrow IPC stream file (the
 * numbers layout, 70M rows) into a data directory, unless it is there already. Used by
 * scripts/bench-rss.sh.
 */
import { join } from 'node:path';
import { ensureNumbersFile } from '../src/catalog/demo.js';

const dir = process.argv[2] ?? 'bench/.data-large';
const rows = Number(process.argv[3] ?? 70_000_000);
const created = await ensureNumbersFile(join(dir, 'large.arrows'), rows);
console.log(created ? `wrote ${dir}/large.arrows` : `${dir}/large.arrows already there`);
