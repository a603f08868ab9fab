/** The `flightgate serve` contract: the ready line, the demo datasets, and a draining shutdown. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { FlightgateError } from '../../src/core/errors.js';
import { FlightClient } from '../../src/flight/client/flight-client.js';
import { ROOT } from '../helpers/python.js';
import { tempDir } from '../helpers/server.js';

interface Cli {
  child: ChildProcess;
  uri: string;
  exit: Promise<number | null>;
  stderr: string[];
}

async function startCli(args: string[], env: Record<string, string> = {}): Promise<Cli> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'flightgate.js'), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const uri = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line: ${stderr.join('')}`)), 120_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /^flightgate listening on (grpc:\/\/\S+)$/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exit.then((code) => reject(new Error(`exited ${code}: ${stderr.join('')}`)));
  });
  return { child, uri, exit, stderr };
}

test('serve --demo prints the ready line, serves db1/db2/numbers and drains on SIGTERM', async () => {
  const dir = tempDir();
  const cli = await startCli(['serve', '--demo', '--host', '127.0.0.1', '--port', '0', '--http-port', '0', '--data-dir', dir], {
    FLIGHTGATE_DEMO_NUMBERS_ROWS: '400000',
  });
  const client = new FlightClient(cli.uri);
  try {
    await client.login('admin', 'admin123');
    assert.deepEqual([...(await client.readTable('db1')).getChild('name')!.toArray()], ['a', 'b', 'c']);
    assert.deepEqual([...(await client.readTable('db2')).getChild('id')!.toArray()].map(Number), [4, 5, 6]);
    const info = await client.getFlightInfo('numbers');
    assert.equal(info.totalRecords, 400000);

    // Read slowly, then ask the server to stop in the middle: the stream must still complete.
    let rows = 0;
    let signalled = false;
    for await (const batch of client.doGet(info.endpoints[0]!.ticket)) {
      rows += batch.numRows;
      if (!signalled) {
        signalled = true;
        cli.child.kill('SIGTERM');
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(rows, 400000);
    assert.equal(await cli.exit, 0);
    assert.match(cli.stderr.join(''), /draining/);
  } finally {
    await client.close();
    cli.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad flags and bad config exit 2 with a message naming the problem', async () => {
  const run = (args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'bin', 'flightgate.js'), ...args], { env: { ...process.env, ...env } });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => resolve({ code, stderr }));
    });
  const port = await run(['serve', '--port', 'abc']);
  assert.equal(port.code, 2);
  assert.match(port.stderr, /--port/);
  const unknown = await run(['serve', '--bogus']);
  assert.equal(unknown.code, 2);
  const env = await run(['serve'], { FLIGHTGATE_PORT: 'many' });
  assert.equal(env.code, 2);
  assert.match(env.stderr, /FLIGHTGATE_PORT/);
  const cmd = await run(['frobnicate']);
  assert.equal(cmd.code, 2);
  // A misspelt variable is refused, naming the setting meant, instead of being silently ignored.
  const typo = await run(['serve', '--port', '0', '--http-port', '0'], { FLIGHTGATE_TRANSPORT_MAX_CONNECTIONS_PER_ADRESS: '5' });
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /FLIGHTGATE_TRANSPORT_MAX_CONNECTIONS_PER_ADRESS: not a setting; did you mean FLIGHTGATE_TRANSPORT_MAX_CONNECTIONS_PER_ADDRESS\?/);
  // Start errors name the setting: a declared dataset file that is not there, a key that is not the certificate's.
  const dir = tempDir();
  const config = join(dir, 'c.json');
  writeFileSync(config, JSON.stringify({ datasets: [{ name: 'ok', path: join(dir, 'ok.csv') }, { name: 'sales', path: join(dir, 'missing.parquet') }] }));
  writeFileSync(join(dir, 'ok.csv'), 'a\n1\n');
  const missing = await run(['serve', '--config', config, '--data-dir', join(dir, 'data'), '--port', '0', '--http-port', '0']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /datasets\[1\] \("sales"\)\.path: cannot open .*missing\.parquet: ENOENT/);
  const certs = join(dir, 'certs');
  const made = await run(['certs', 'dev', '--out', certs]);
  assert.equal(made.code, 0, made.stderr);
  const mismatch = await run(['serve', '--data-dir', join(dir, 'data2'), '--port', '0', '--http-port', '0', '--tls-cert', join(certs, 'server.pem'), '--tls-key', join(certs, 'client.key')]);
  assert.notEqual(mismatch.code, 0);
  assert.match(mismatch.stderr, /tls\.keyFile: .*client\.key is not the key of the certificate in tls\.certFile/);
  rmSync(dir, { recursive: true, force: true });
});

test('logFormat json: every server log line on stderr is one JSON object with time, level and msg', async () => {
  const { startCliServer } = await import('../helpers/cli-server.js');
  const dir = tempDir();
  const server = await startCliServer(['--demo', '--data-dir', dir], { FLIGHTGATE_LOG_FORMAT: 'json', FLIGHTGATE_AUDIT_FILE: join(dir, 'audit.log') });
  await server.stop();
  const stderr = server.output.join('').split('\n').filter((l) => l.trim() && !l.startsWith('flightgate listening on') && !l.startsWith('flightgate token service on'));
  assert.ok(stderr.length >= 3, stderr.join('\n'));
  for (const line of stderr) {
    const parsed = JSON.parse(line) as { time: string; level: string; msg: string };
    assert.ok(!Number.isNaN(Date.parse(parsed.time)) && ['info', 'warn', 'error'].includes(parsed.level) && parsed.msg, line);
  }
  assert.ok(stderr.some((l) => l.includes('"level":"warn"') && l.includes('DEMO MODE')));
  rmSync(dir, { recursive: true, force: true });
});

test('a stream still running when shutdownGraceSeconds is over is ended with UNAVAILABLE, and the process exits', async () => {
  const dir = tempDir();
  const cli = await startCli(['serve', '--demo', '--host', '127.0.0.1', '--port', '0', '--http-port', '0', '--data-dir', dir], {
    // More than the client's receive windows hold, so the server is still sending when the grace ends.
    FLIGHTGATE_DEMO_NUMBERS_ROWS: '3000000',
    FLIGHTGATE_SHUTDOWN_GRACE_SECONDS: '1',
    FLIGHTGATE_AUDIT_FILE: join(dir, 'audit.log'),
  });
  const client = new FlightClient(cli.uri);
  try {
    await client.login('admin', 'admin123');
    const info = await client.getFlightInfo('numbers');
    let signalledAt = 0;
    const reading = (async () => {
      for await (const batch of client.doGet(info.endpoints[0]!.ticket)) {
        void batch;
        if (!signalledAt) {
          signalledAt = Date.now();
          cli.child.kill('SIGTERM');
        }
        await new Promise((r) => setTimeout(r, 400)); // far too slow to finish within the grace
      }
    })();
    await assert.rejects(reading, (e: unknown) => e instanceof FlightgateError && ['UNAVAILABLE', 'CANCELLED'].includes(e.statusName));
    assert.equal(await cli.exit, 0);
    const took = Date.now() - signalledAt;
    assert.ok(took >= 900 && took < 6000, `exited ${took} ms after SIGTERM`);
  } finally {
    await client.close();
    cli.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
