/** Per-principal limits count by the namespaced principal: a local user and an IdP subject of the same name are two callers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageLimits } from '../../src/authz/usage-limits.js';
import { FlightgateError } from '../../src/core/errors.js';
import type { Principal } from '../../src/core/principal.js';

test('the call rate of a local user and of an IdP subject with the same id are counted apart', () => {
  const t = 1_000_000;
  const limits = new UsageLimits({ callsPerSecond: 2, callBurst: 2, maxUploadBytes: 0, uploadBytesPerHour: 0 }, () => t);
  const local: Principal = { id: 'admin', kind: 'user', method: 'session', roles: [] };
  const external: Principal = { id: 'admin', kind: 'external', issuer: 'https://idp.example', method: 'oidc', roles: [] };
  const otherIdp: Principal = { ...external, issuer: 'https://other.example' };
  limits.admitCall(local);
  limits.admitCall(local);
  assert.throws(() => limits.admitCall(local), (e: unknown) => e instanceof FlightgateError && e.statusName === 'RESOURCE_EXHAUSTED');
  limits.admitCall(external);
  limits.admitCall(external);
  assert.throws(() => limits.admitCall(external), (e: unknown) => e instanceof FlightgateError && e.statusName === 'RESOURCE_EXHAUSTED');
  limits.admitCall(otherIdp);
});
