/** Tickets: signed, expiring, bound to a principal; a bare dataset name still works. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlightgateError } from '../../src/core/errors.js';
import { TicketCodec } from '../../src/flight/ticket.js';

const refused = (fn: () => unknown, status: string, pattern: RegExp): void =>
  assert.throws(fn, (e: unknown) => e instanceof FlightgateError && e.statusName === status && pattern.test(e.message));

test('a ticket round-trips with its dataset, expiry and principal', () => {
  const codec = new TicketCodec();
  const t = codec.encode({ dataset: 'db1', expiresAt: Date.now() + 1000, principal: 'alice' });
  assert.deepEqual({ ...codec.decode(t, 'alice'), expiresAt: undefined }, { dataset: 'db1', expiresAt: undefined, principal: 'alice' });
});

test('a ticket presented by another principal is PERMISSION_DENIED', () => {
  const codec = new TicketCodec();
  const t = codec.encode({ dataset: 'db1', principal: 'alice' });
  refused(() => codec.decode(t, 'bob'), 'PERMISSION_DENIED', /another principal/);
});

test('an expired ticket is refused', () => {
  const codec = new TicketCodec();
  const t = codec.encode({ dataset: 'db1', expiresAt: 1000, principal: 'alice' });
  refused(() => codec.decode(t, 'alice'), 'INVALID_ARGUMENT', /expired/);
  assert.equal(codec.decode(t, 'alice', 999).dataset, 'db1');
});

test('a ticket signed with another key, or altered anywhere, is refused', () => {
  const codec = new TicketCodec();
  const other = new TicketCodec();
  const t = Buffer.from(codec.encode({ dataset: 'db1', principal: 'alice' }));
  refused(() => other.decode(t, 'alice'), 'INVALID_ARGUMENT', /not one this server issued/);
  for (let i = 5; i < t.length; i++) {
    const altered = Buffer.from(t);
    altered[i] = altered[i] === 0x41 ? 0x42 : 0x41;
    assert.throws(() => codec.decode(altered, 'alice'), FlightgateError, `byte ${i}`);
  }
  // Re-signing another principal's payload needs the key: swapping the payload breaks the MAC.
  const mine = Buffer.from(codec.encode({ dataset: 'db1', principal: 'mallory' })).toString().split('.');
  const theirs = t.toString().split('.');
  refused(() => codec.decode(Buffer.from(`${mine[0]}.${theirs[1]}.${mine[2]}`), 'mallory'), 'INVALID_ARGUMENT', /not one this server issued/);
});

test('the same content gives the same ticket; a different expiry a different one', () => {
  const codec = new TicketCodec();
  const a = codec.encode({ dataset: 'db1', expiresAt: 5000, principal: 'alice' });
  assert.deepEqual(codec.encode({ dataset: 'db1', expiresAt: 5000, principal: 'alice' }), a);
  assert.notDeepEqual(codec.encode({ dataset: 'db1', expiresAt: 6000, principal: 'alice' }), a);
});

test("the same key on two replicas accepts each other's tickets", () => {
  const key = Buffer.alloc(32, 7);
  const t = new TicketCodec(key).encode({ dataset: 'db2', principal: 'bob' });
  assert.equal(new TicketCodec(key).decode(t, 'bob').principal, 'bob');
});

test('a bare dataset name is accepted; garbage is not', () => {
  const codec = new TicketCodec();
  assert.deepEqual(codec.decode(Buffer.from('db1'), 'anyone'), { dataset: 'db1' });
  refused(() => codec.decode(Buffer.from('fgt2.garbage'), 'anyone'), 'INVALID_ARGUMENT', /not one this server issued/);
  refused(() => codec.decode(new Uint8Array(0), 'anyone'), 'INVALID_ARGUMENT', /empty/);
});

test('a ticket in non-canonical base64url is not ours, even though it decodes to the same bytes', () => {
  const codec = new TicketCodec();
  const t = Buffer.from(codec.encode({ dataset: 'db1', principal: 'user:alice' })).toString('utf8');
  const [prefix, payload, mac] = t.split('.') as [string, string, string];
  assert.equal(codec.decode(Buffer.from(t), 'user:alice').dataset, 'db1');
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  // A 32-byte MAC is 43 characters: the last one has 2 unused bits.
  const last = mac[mac.length - 1]!;
  const bumped = mac.slice(0, -1) + alphabet[alphabet.indexOf(last) + 1]!;
  assert.deepEqual(Buffer.from(bumped, 'base64url'), Buffer.from(mac, 'base64url'));
  refused(() => codec.decode(Buffer.from(`${prefix}.${payload}.${bumped}`), 'user:alice'), 'INVALID_ARGUMENT', /not one this server issued/);
});

test('a ticket of the local user admin is not one of an IdP subject named admin', () => {
  const codec = new TicketCodec();
  const t = codec.encode({ dataset: 'db1', principal: 'user:admin' });
  refused(() => codec.decode(t, 'external:https://idp.example#admin'), 'PERMISSION_DENIED', /another principal/);
});

test('a ticket for a range of segments keeps the range; a signed ticket with a malformed range is corrupt', () => {
  const codec = new TicketCodec();
  const segments = { from: 2, to: 5, first: 'a1b2.x.arrows', last: 'a1b2.y.arrows' };
  assert.deepEqual(codec.decode(codec.encode({ dataset: 'db1', principal: 'alice', segments }), 'alice').segments, segments);
  assert.equal(codec.decode(codec.encode({ dataset: 'db1', principal: 'alice' }), 'alice').segments, undefined);
  for (const bad of [
    { from: 3, to: 3, first: 'a.arrows', last: 'a.arrows' },
    { from: -1, to: 2, first: 'a.arrows', last: 'a.arrows' },
    { from: 0, to: 2, first: '../etc/passwd', last: 'a.arrows' },
    { from: 0.5, to: 2, first: 'a.arrows', last: 'a.arrows' },
  ]) {
    refused(() => codec.decode(codec.encode({ dataset: 'db1', principal: 'alice', segments: bad }), 'alice'), 'INVALID_ARGUMENT', /corrupt/);
  }
});
