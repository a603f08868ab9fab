/** Assertions the tests share. */
import assert from 'node:assert/strict';
import { FlightgateError } from '../../src/core/errors.js';

/** `p` rejects with a FlightgateError of status `status` (by name), its message matching `message`. */
export async function rejectsWith(p: Promise<unknown>, status: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof FlightgateError, String(e));
    assert.equal(e.statusName, status, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}
