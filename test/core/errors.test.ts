/** A FlightgateError shows its status by name wherever it is printed, not only as a number. */
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { test } from 'node:test';
import { FlightgateError } from '../../src/core/errors.js';
import { Status } from '../../src/core/status.js';

test('the status name is an own property: in JSON, in inspection, and by destructuring', () => {
  const e = new FlightgateError(Status.PERMISSION_DENIED, '"bob" may not read dataset "x"');
  assert.equal(e.statusName, 'PERMISSION_DENIED');
  assert.deepEqual(JSON.parse(JSON.stringify(e)), { status: 7, statusName: 'PERMISSION_DENIED', name: 'FlightgateError' });
  assert.match(inspect(e), /statusName: 'PERMISSION_DENIED'/);
  const { statusName } = e;
  assert.equal(statusName, 'PERMISSION_DENIED');
});
