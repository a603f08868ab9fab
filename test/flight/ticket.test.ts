/** Tickets: signed, expiring, bound to a principal; a bare dataset name still works. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlightgateError } from '../../src/core/errors.js';
import { TicketCodec } from '../../src/flight/ticket.js';

const refused = (fn: () => unknown, pattern: RegExp): void =>
  assert.throws(fn, (e: unknown) => e instanceof FlightgateError && e.statusName === 'INVALID_ARGUMENT' && pattern.test(e.message));

test('a ticket round-trips with its dataset, expiry and principal', () => {
  const codec = new TicketCodec();
  const t = codec.encode({ dataset: 'db1', expiresAt: Date.now() + 1000, principal: 'alice' });
  assert.deepEqual({ ...codec.decode(t), expiresAt: undefined }, { dataset: 'db1', expiresAt: undefined, principal: 'alice' });
});

test('an expired ticket is refused', () => {
  const codec = new TicketCodec();
  const t = codec.encode({ dataset: 'db1', expiresAt: 1000, principal: 'alice' });
  refused(() => codec.decode(t), /expired/);
  assert.equal(codec.decode(t, 999).dataset, 'db1');
});

test('a ticket signed with another key, or altered anywhere, is refused', () => {
  const codec = new TicketCodec();
  const other = new TicketCodec();
  const t = Buffer.from(codec.encode({ dataset: 'db1', principal: 'alice' }));
  refused(() => other.decode(t), /not one this server issued/);
  for (let i = 5; i < t.length; i++) {
    const altered = Buffer.from(t);
    altered[i] = altered[i] === 0x41 ? 0x42 : 0x41;
    assert.throws(() => codec.decode(altered), FlightgateError, `byte ${i}`);
  }
  // Re-signing another principal's payload needs the key: swapping the payload breaks the MAC.
  const mine = Buffer.from(codec.encode({ dataset: 'db1', principal: 'mallory' })).toString().split('.');
  const theirs = t.toString().split('.');
  refused(() => codec.decode(Buffer.from(`${mine[0]}.${theirs[1]}.${mine[2]}`)), /not one this server issued/);
});

test('the same key on two replicas accepts each other\'s tickets', () => {
  const key = Buffer.alloc(32, 7);
  const t = new TicketCodec(key).encode({ dataset: 'db2', principal: 'bob' });
  assert.equal(new TicketCodec(key).decode(t).principal, 'bob');
});

test('a bare dataset name is accepted; garbage is not', () => {
  const codec = new TicketCodec();
  assert.deepEqual(codec.decode(Buffer.from('db1')), { dataset: 'db1' });
  refused(() => codec.decode(Buffer.from('fgt2.garbage')), /not one this server issued/);
  refused(() => codec.decode(new Uint8Array(0)), /empty/);
});
