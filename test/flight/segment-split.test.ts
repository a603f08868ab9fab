/** How a dataset of several segments is split into endpoint ranges: contiguous, covering, about equal in bytes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitSegments } from '../../src/flight/service.js';

const segs = (...bytes: number[]) => bytes.map((b, i) => ({ file: `w.${i}.arrows`, rows: b, bytes: b }));

test('ranges are contiguous, cover every segment once, and name their first and last files', () => {
  for (const [sizes, parts] of [[[1, 1, 1, 1, 1, 1], 3], [[10, 1, 1, 1], 2], [[1, 1, 1, 10], 3], [[5], 3], [[1, 2, 3, 4, 5, 6, 7, 8, 9], 4]] as const) {
    const s = segs(...sizes);
    const ranges = splitSegments(s, parts);
    assert.equal(ranges.length, Math.min(parts, s.length));
    assert.equal(ranges[0]!.from, 0);
    assert.equal(ranges.at(-1)!.to, s.length);
    for (const [i, r] of ranges.entries()) {
      assert.ok(r.to > r.from, 'no empty range');
      if (i > 0) assert.equal(r.from, ranges[i - 1]!.to, 'contiguous');
      assert.equal(r.first, s[r.from]!.file);
      assert.equal(r.last, s[r.to - 1]!.file);
    }
  }
});

test('equal segments split evenly; one large segment gets a range of its own', () => {
  assert.deepEqual(splitSegments(segs(1, 1, 1, 1, 1, 1), 3).map((r) => [r.from, r.to]), [[0, 2], [2, 4], [4, 6]]);
  assert.deepEqual(splitSegments(segs(10, 1, 1, 1), 2).map((r) => [r.from, r.to]), [[0, 1], [1, 4]]);
});
