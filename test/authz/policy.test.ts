/** The policy: roles grant actions on dataset globs; admin implies all, read implies list. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Policy } from '../../src/authz/policy.js';
import { compilePattern, isValidPattern } from '../../src/authz/pattern.js';

const policy = new Policy([
  { role: 'analyst', pattern: 'sales_*', action: 'read' },
  { role: 'loader', pattern: 'sales_2026', action: 'write' },
  { role: 'lister', pattern: 'db?', action: 'list' },
  { role: 'root', pattern: '*', action: 'admin' },
]);

test('a role allows what it was granted, on names its pattern matches', () => {
  assert.equal(policy.allows(['analyst'], 'read', 'sales_eu'), true);
  assert.equal(policy.allows(['analyst'], 'read', 'marketing'), false);
  assert.equal(policy.allows(['analyst'], 'read', 'xsales_eu'), false, 'patterns are anchored');
  assert.equal(policy.allows(['analyst'], 'write', 'sales_eu'), false);
});

test('read implies list; write implies neither; admin implies everything', () => {
  assert.equal(policy.allows(['analyst'], 'list', 'sales_eu'), true);
  assert.equal(policy.allows(['loader'], 'write', 'sales_2026'), true);
  assert.equal(policy.allows(['loader'], 'read', 'sales_2026'), false);
  assert.equal(policy.allows(['loader'], 'list', 'sales_2026'), false);
  assert.equal(policy.allows(['lister'], 'list', 'db1'), true);
  assert.equal(policy.allows(['lister'], 'read', 'db1'), false);
  assert.equal(policy.allows(['lister'], 'list', 'db10'), false);
  for (const action of ['list', 'read', 'write', 'admin'] as const) assert.equal(policy.allows(['root'], action, 'anything'), true);
});

test('no roles, or unknown roles, allow nothing', () => {
  assert.equal(policy.allows([], 'list', 'sales_eu'), false);
  assert.equal(policy.allows(['ghost'], 'read', 'sales_eu'), false);
});

test('roles add up', () => {
  assert.equal(policy.allows(['analyst', 'loader'], 'write', 'sales_2026'), true);
  assert.equal(policy.allows(['analyst', 'loader'], 'read', 'sales_2026'), true);
});

test('pattern metacharacters other than * and ? are literal', () => {
  assert.equal(compilePattern('a.b')('axb'), false);
  assert.equal(compilePattern('a.b')('a.b'), true);
  assert.equal(isValidPattern('sales_*'), true);
  assert.equal(isValidPattern('a(b)'), false);
  assert.equal(isValidPattern(''), false);
});
