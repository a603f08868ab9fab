/** LIKE filter patterns of the Flight SQL metadata commands: semantics, escapes, and bounded cost. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlightgateError } from '../../src/core/errors.js';
import { Status } from '../../src/core/status.js';
import { compileLike, MAX_LIKE_PATTERN } from '../../src/flight/sql/like-pattern.js';

const like = (pattern: string | undefined, name: string): boolean => compileLike(pattern)(name);

test('% is any run, _ exactly one character, the rest literal and case-sensitive; no pattern matches all', () => {
  const cases: [string | undefined, string, boolean][] = [
    [undefined, 'anything', true],
    ['%', '', true],
    ['%', 'db1', true],
    ['', '', true],
    ['', 'db1', false],
    ['db_', 'db1', true],
    ['db_', 'db12', false],
    ['db%', 'db', true],
    ['db%', 'db12', true],
    ['%1', 'db1', true],
    ['%1', 'db12', false],
    ['d%b%1', 'dxbyy1', true],
    ['d%b%1', 'dxbyy2', false],
    ['_%_', 'a', false],
    ['_%_', 'ab', true],
    ['DB1', 'db1', false],
    ['%%%', 'x', true],
    ['a%%b', 'ab', true],
    ['ü_', 'üx', true],
  ];
  for (const [pattern, name, expected] of cases) assert.equal(like(pattern, name), expected, `${String(pattern)} ~ ${name}`);
});

test('the escape character makes %, _ and itself literal; a trailing escape is INVALID_ARGUMENT', () => {
  assert.equal(like('sales\\_2024', 'sales_2024'), true);
  assert.equal(like('sales\\_2024', 'salesX2024'), false);
  assert.equal(like('100\\%', '100%'), true);
  assert.equal(like('100\\%', '1000'), false);
  assert.equal(like('a\\\\b', 'a\\b'), true);
  const invalid = (e: unknown): boolean => e instanceof FlightgateError && e.status === Status.INVALID_ARGUMENT;
  assert.throws(() => compileLike('abc\\'), invalid);
  assert.throws(() => compileLike('x'.repeat(MAX_LIKE_PATTERN + 1)), invalid);
});

test('patterns built to backtrack cost at most pattern × name steps, not exponential time', () => {
  const name = 'a'.repeat(5000);
  const baseline = performance.now();
  like('%b', name);
  const plain = performance.now() - baseline;
  for (const pattern of ['%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%b', `${'_%'.repeat(200)}b`, `${'%a'.repeat(500)}b`]) {
    const started = performance.now();
    assert.equal(like(pattern, name), false);
    const took = performance.now() - started;
    // Bounded by the product of the lengths (≤ 1000 × 5000 steps); exponential would not finish.
    assert.ok(took < Math.max(500, plain * 1000), `${pattern.slice(0, 20)}… took ${took.toFixed(1)} ms`);
  }
});
