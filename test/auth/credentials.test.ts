/** Basic credential parsing and the audit log's redaction. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBasicCredentials } from '../../src/auth/basic-credentials.js';
import { redact } from '../../src/audit/audit-log.js';
import { FlightgateError } from '../../src/core/errors.js';

test('Basic credentials: padded and unpadded base64, colons in the password, UTF-8', () => {
  const enc = (s: string): string => Buffer.from(s).toString('base64');
  assert.deepEqual(parseBasicCredentials(enc('user1:pass1')), { user: 'user1', password: 'pass1' });
  assert.deepEqual(parseBasicCredentials(enc('user1:pass1').replace(/=+$/, '')), { user: 'user1', password: 'pass1' });
  assert.deepEqual(parseBasicCredentials(enc('u:a:b:c')), { user: 'u', password: 'a:b:c' });
  assert.deepEqual(parseBasicCredentials(enc('jürgen:päss')), { user: 'jürgen', password: 'päss' });
});

test('malformed Basic credentials are UNAUTHENTICATED', () => {
  for (const bad of ['', '!!!', Buffer.from('nocolon').toString('base64'), Buffer.from(':nouser').toString('base64'), 'A'.repeat(10_000)]) {
    assert.throws(() => parseBasicCredentials(bad), (e: unknown) => e instanceof FlightgateError && e.statusName === 'UNAUTHENTICATED', bad.slice(0, 20));
  }
});

test('redaction masks tokens and credentials that reach a log line', () => {
  const line = redact('{"a":"fgs_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG","b":"Bearer abc.def.ghijklmnop","c":"Basic dXNlcjE6cGFzczE="}');
  assert.doesNotMatch(line, /abcdefghijkl|ghijklmnop|dXNlcjE6cGFzczE/);
  assert.match(line, /fgs_…/);
});
