/** What a caller may read of a dataset: the grants that apply, combined; and grants from the config file, checked. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configGrants } from '../../src/authz/config-grants.js';
import { renderFilter } from '../../src/authz/filter-expression.js';
import { grantId, Policy } from '../../src/authz/policy.js';
import { PolicyError } from '../../src/core/read-policy.js';

const eu = { rows: "region = 'EU'" };
const policy = new Policy([
  { role: 'eu', pattern: 'sales_*', action: 'read', policy: eu },
  { role: 'masked', pattern: 'sales_eu', action: 'read', policy: { columns: { email: 'hash' } } },
  { role: 'plain', pattern: 'sales_us', action: 'read' },
  { role: 'root', pattern: '*', action: 'admin' },
  { role: 'lister', pattern: '*', action: 'list' },
  { role: 'empty', pattern: 'sales_*', action: 'read', policy: { columns: {} } },
  { role: 'eu', pattern: 'sales_*', action: 'write' },
]);

test('restricted grants that apply are all returned; any unrestricted grant that allows the read wins', () => {
  assert.deepEqual(policy.readScope(['eu'], 'sales_eu'), { kind: 'restricted', grants: [{ id: 'eu:sales_*', policy: eu }] });
  assert.deepEqual(policy.readScope(['eu', 'masked', 'eu'], 'sales_eu'), {
    kind: 'restricted',
    grants: [{ id: 'eu:sales_*', policy: eu }, { id: 'masked:sales_eu', policy: { columns: { email: 'hash' } } }],
  });
  assert.deepEqual(policy.readScope(['eu', 'plain'], 'sales_us'), { kind: 'all', grants: ['plain:sales_us'] });
  assert.deepEqual(policy.readScope(['eu', 'root'], 'sales_eu'), { kind: 'all', grants: ['root:*'] }, 'admin reads everything');
  assert.deepEqual(policy.readScope(['empty'], 'sales_eu'), { kind: 'all', grants: ['empty:sales_*'] }, 'a policy that restricts nothing is no restriction');
  assert.equal(policy.readScope(['lister'], 'sales_eu'), undefined, 'list is not read');
  assert.equal(policy.readScope(['eu'], 'marketing'), undefined);
  assert.equal(policy.readScope([], 'sales_eu'), undefined);
  assert.equal(policy.hasRestrictions, true);
  assert.equal(new Policy([{ role: 'a', pattern: '*', action: 'read' }]).hasRestrictions, false);
});

test('a policy on a grant that is not read restricts nothing (write and admin are whole)', () => {
  const p = new Policy([{ role: 'w', pattern: 'x', action: 'write', policy: eu }, { role: 'w', pattern: 'x', action: 'read' }]);
  assert.deepEqual(p.readScope(['w'], 'x'), { kind: 'all', grants: ['w:x'] });
});

test('grant ids name the role and pattern, and where the grant is declared', () => {
  assert.equal(grantId({ role: 'analysts', pattern: 'sales_*' }), 'analysts:sales_*');
  assert.equal(grantId({ role: 'analysts', pattern: 'sales_*', source: 'config' }), 'config:analysts:sales_*');
});

test('config file grants: one per action, the policy on read only, each mistake named with its entry', () => {
  const grants = configGrants([{ role: 'r', dataset: 'sales_*', actions: ['read', 'list', 'read'], rows: "a = 'b'", columns: { ssn: 'hide' } }]);
  assert.deepEqual(grants, [
    { role: 'r', pattern: 'sales_*', action: 'read', source: 'config', policy: { rows: "a = 'b'", columns: { ssn: 'hide' } } },
    { role: 'r', pattern: 'sales_*', action: 'list', source: 'config' },
  ]);
  const refused = (entry: Parameters<typeof configGrants>[0][number], message: RegExp): void =>
    assert.throws(() => configGrants([{ role: 'ok', dataset: 'x', actions: ['read'] }, entry]), (err: unknown) => err instanceof PolicyError && message.test(err.message));
  refused({ role: 'r', dataset: 'bad/name', actions: ['read'] }, /^grants\[1\] \(role r, dataset bad\/name\): invalid dataset pattern/);
  refused({ role: 'r', dataset: 'x', actions: ['write'], rows: 'a = 1' }, /grants\[1\].*belong to a read grant/);
  refused({ role: 'r', dataset: 'x', actions: ['read'], columns: { email: 'scramble' } }, /grants\[1\].*"scramble" is not a column rule/);
  refused({ role: 'r', dataset: 'x', actions: ['read'], rows: 'x'.repeat(5000) }, /grants\[1\].*at most 4096/);
});

test('a filter is rendered in one pass: a claim that spells a placeholder stays text, quotes stay characters', () => {
  const t = { sql: "(a = 'fgp_n0nce_0') AND (b = 'fgp_n0nce_1') AND list_contains('fgp_n0nce_2', c)", nonce: 'n0nce', attributes: [
    { kind: 'claim', name: 'x' }, { kind: 'principal' }, { kind: 'roles' },
  ] } as const;
  const sql = renderFilter(t, { principal: "o'neil", roles: ['r1', "r'2"], claims: { x: "fgp_n0nce_1' OR true --" } });
  assert.equal(sql, "(a = ('fgp_n0nce_1'' OR true --')) AND (b = ('o''neil')) AND list_contains((['r1', 'r''2']), c)");
  assert.equal(renderFilter(t, { principal: 'p', roles: [] }), "(a = (NULL)) AND (b = ('p')) AND list_contains((CAST([] AS VARCHAR[])), c)");
});
