/**
 * Interoperability with the official pyarrow Flight client: test/interop/py/test_pyarrow_client.py
 * (stdlib unittest) calls every RPC of a real flightgate and checks the answers value by value.
 * This file starts the server, runs that suite once and checks that all of it ran and passed.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runPython, type PythonResult } from '../helpers/python.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Test methods in test_pyarrow_client.py: a suite that silently ran fewer must not pass. */
const EXPECTED_TESTS = 51;

let server: TestServer;
let result: PythonResult | undefined;

before(async () => {
  server = await startTestServer({ demo: true });
});
after(async () => server?.stop());

/** The names of the unittest methods that failed or errored, for a readable assertion message. */
function failures(output: string): string[] {
  return [...output.matchAll(/^(?:FAIL|ERROR): (.+)$/gm)].map((m) => m[1]!);
}

test('the pyarrow Flight client suite runs in full and passes', async () => {
  result = await runPython(
    ['-m', 'unittest', 'discover', '-v', '-s', 'test/interop/py', '-p', 'test_pyarrow_client.py'],
    { FLIGHTGATE_URI: server.uri, FLIGHTGATE_DATA_DIR: server.dataDir, PYTHONDONTWRITEBYTECODE: '1' },
    180_000,
  );
  // unittest reports on stderr; stdout only has what the tests print.
  const output = `${result.stdout}${result.stderr}`;
  const failed = failures(output);
  const report = `pyarrow suite exited with ${String(result.code)}${failed.length ? `; failing:\n  ${failed.join('\n  ')}` : ''}\n\n${output}`;
  if (result.code !== 0) console.log(report);
  const ran = output.match(/^Ran (\d+) tests? in /m);
  assert.ok(ran, `no "Ran N tests" line: the suite did not run\n\n${output}`);
  assert.equal(Number(ran[1]), EXPECTED_TESTS, `expected ${EXPECTED_TESTS} tests to run\n\n${output}`);
  assert.equal(result.code, 0, report);
  assert.match(output, /^OK\b/m, report);
});

test('the server logged no errors while serving pyarrow', () => {
  assert.ok(result, 'the pyarrow suite did not run');
  const errors = server.logs.filter((line) => line.startsWith('error:'));
  assert.deepEqual(errors, [], `server errors:\n${errors.join('\n')}`);
});
