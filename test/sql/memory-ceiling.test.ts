/**
 * The memory ceiling: DuckDB's memory_limit binds its buffer pool only, and a statement that
 * builds large strings (no table needed) would otherwise grow the server until the kernel kills
 * it. Here such statements, several at once, fail with RESOURCE_EXHAUSTED naming the setting,
 * the process stays under the ceiling, and the engine keeps answering.
 * One engine per process: the ceiling is the process's (this file runs in a process of its own).
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tableFromIPC, type Table } from 'apache-arrow';
import { encapsulate } from '../../src/ipc/message.js';
import { DEFAULT_SQL_SETTINGS, SqlEngine } from '../../src/sql/engine.js';
import { defaultMemoryCeiling, memorySizeBytes } from '../../src/sql/memory-size.js';
import { rejectsWith } from '../helpers/assertions.js';
import { tempDir } from '../helpers/server.js';

const CEILING = 1.5e9;
const dir = tempDir('fg-ceiling-');
const engine = new SqlEngine({ ...DEFAULT_SQL_SETTINGS, memoryLimit: '256MB', memoryCeiling: '1.5GB', tempDirectory: join(dir, 'spill') });
after(async () => {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
});

const resident = (): number => Number(readFileSync('/proc/self/statm', 'utf8').split(' ')[1]) * 4096;

async function run(sql: string, owner = 'tester'): Promise<Table> {
  const q = await engine.query({ owner, tables: [], sql });
  const parts: Uint8Array[] = [];
  for await (const m of q.messages()) {
    parts.push(encapsulate(m));
    m.release?.();
  }
  return tableFromIPC(Buffer.concat(parts));
}

test('sizes are read as DuckDB reads them', () => {
  assert.equal(memorySizeBytes('2GB'), 2e9);
  assert.equal(memorySizeBytes('512MiB'), 512 * 1024 ** 2);
  assert.equal(memorySizeBytes('1.5 gb'), 1.5e9);
  assert.ok(memorySizeBytes('50%') > 0);
  assert.equal(defaultMemoryCeiling('1GB'), Math.min(3e9, Math.floor(0.9 * totalmem())));
  assert.equal(defaultMemoryCeiling('100%'), Math.floor(0.9 * totalmem()), 'never past 90 % of the machine');
  assert.throws(() => memorySizeBytes('lots'), /expected a size/);
});

test('statements building 20 GB of strings, four at once, fail with RESOURCE_EXHAUSTED under the ceiling, and the engine answers after', async () => {
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, resident())), 2);
  try {
    const attack = "SELECT repeat('x', 10000000) AS s FROM range(2048)";
    await Promise.all(['a', 'b', 'c', 'd'].map((owner) => rejectsWith(run(attack, owner), 'RESOURCE_EXHAUSTED', /sql\.memoryCeiling/)));
  } finally {
    clearInterval(sampler);
  }
  // One growth step (32 MB per arena, on 8 arenas here) and the statements' last allocations may pass the ceiling.
  assert.ok(peak < CEILING + 600e6, `the process reached ${Math.round(peak / 1e6)} MB`);
  const t = await run("SELECT count(*) AS n, sum(length(repeat('y', 100000))) AS bytes FROM range(2048)");
  assert.equal(Number(t.getChild('n')!.get(0)), 2048);
  assert.equal(Number(t.getChild('bytes')!.get(0)), 2048 * 100000);
  const big = await run("SELECT repeat('z', 100000) AS s FROM range(2048)");
  assert.equal(big.numRows, 2048);
  assert.equal(engine.activeStatements, 0);
});

test('aggregate states in C++ containers (a histogram of 20M values, mode and median of 100M) meet the ceiling too, and the memory they held goes back', async () => {
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, resident())), 2);
  try {
    await rejectsWith(run('SELECT histogram(range) AS h FROM range(20000000)', 'h'), 'RESOURCE_EXHAUSTED', /sql\.memoryCeiling/);
    await rejectsWith(run('SELECT mode(range) AS m, median(range) AS d FROM range(100000000)', 'm'), 'RESOURCE_EXHAUSTED', /sql\.memoryCeiling/);
  } finally {
    clearInterval(sampler);
  }
  assert.ok(peak < CEILING + 600e6, `the process reached ${Math.round(peak / 1e6)} MB`);
  // Given back: the server is under the ceiling again, and answers.
  assert.ok(resident() < CEILING, `the process holds ${Math.round(resident() / 1e6)} MB after`);
  assert.deepEqual(JSON.parse(JSON.stringify((await run('SELECT 41 + 1 AS x')).toArray())), [{ x: 42 }]);
});
