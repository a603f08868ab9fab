/**
 * gRPC semantics our own transport owns, checked against the official pyarrow client:
 * deadlines, cancellation, message-size limits, status messages, and large batches both ways.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FlightgateError } from '../../src/core/errors.js';
import { Status } from '../../src/core/status.js';
import { GrpcChannel } from '../../src/flight/transport/client.js';
import { Metadata } from '../../src/flight/transport/metadata.js';
import { DescriptorType, encodeTicket } from '../../src/flight/proto/messages.js';
import { encodeFlightData } from '../../src/flight/codec.js';
import { splitIpcStream } from '../../src/ipc/message.js';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { runPython } from '../helpers/python.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
before(async () => {
  server = await startTestServer({ demo: true, demoNumbersRows: 2_000_000, transport: { maxMessageBytes: 8 * 1024 * 1024, receiveWindowBytes: 16 * 1024 * 1024, maxConcurrentStreams: 100 } });
});
after(async () => server?.stop());

/** The server notices an ended call within a few seconds, or the test fails. */
async function assertIdle(): Promise<void> {
  for (let i = 0; i < 100 && server.activeCalls() > 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(server.activeCalls(), 0);
}

const py = async (script: string): Promise<string> => {
  const r = await runPython(['-c', script, server.uri]);
  assert.equal(r.code, 0, `python failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout.trim();
};

test('a message over the server limit is RESOURCE_EXHAUSTED in pyarrow, naming the limit', async () => {
  const out = await py(`
import sys, json, pyarrow as pa, pyarrow.flight as flight
c = flight.FlightClient(sys.argv[1])
t = pa.table({"x": pa.array(range(2_000_000), pa.int64())})  # one 16 MB batch
d = flight.FlightDescriptor.for_command(json.dumps({"dataset": "big", "mode": "replace"}))
w, _ = c.do_put(d, t.schema)
try:
    w.write_table(t)
    w.close()
    print("accepted")
except flight.FlightError as e:
    print(type(e).__name__, str(e).splitlines()[0])
except pa.ArrowException as e:
    print(type(e).__name__, str(e).splitlines()[0])
`);
  assert.match(out, /larger than max \(\d+ vs\. 8388608 bytes\) \(transport\.maxMessageBytes\)/);
});

test('pyarrow cancelling a DoGet ends the server-side call', async () => {
  const out = await py(`
import sys, pyarrow.flight as flight
c = flight.FlightClient(sys.argv[1])
r = c.do_get(flight.Ticket(b"numbers"))
r.read_chunk()
r.cancel()
print("cancelled")
`);
  assert.equal(out, 'cancelled');
  await assertIdle();
});

test('pyarrow timeouts surface as FlightTimedOutError and the server call ends', async () => {
  const out = await py(`
import sys, time, pyarrow.flight as flight
c = flight.FlightClient(sys.argv[1])
opts = flight.FlightCallOptions(timeout=0.3)
r = c.do_get(flight.Ticket(b"numbers"), opts)
r.read_chunk()
time.sleep(0.6)
try:
    while True:
        r.read_chunk()
except StopIteration:
    print("finished")
except flight.FlightTimedOutError:
    print("timed out")
`);
  assert.equal(out, 'timed out');
  await assertIdle();
});

test('the server enforces grpc-timeout itself: DEADLINE_EXCEEDED, and a stalled stream is reset', async () => {
  const channel = new GrpcChannel(server.uri);
  try {
    // The deadline travels as a header only: this client does not enforce it, the server must.
    const put = channel.call('arrow.flight.protocol.FlightService', 'DoPut', { metadata: new Metadata().set('grpc-timeout', '200m') });
    const schema = splitIpcStream(tableToIPC(tableFromArrays({ a: Int32Array.from([1]) }), 'stream'))[0]!;
    const descriptor = { type: DescriptorType.CMD, cmd: Buffer.from('{"dataset":"stalled","mode":"replace"}'), path: [] };
    await put.send(encodeFlightData({ descriptor, header: schema.header })); // then stall without finishing
    await assert.rejects(put.done(), (e: unknown) => e instanceof FlightgateError && e.status === Status.DEADLINE_EXCEEDED);

    const get = channel.call('arrow.flight.protocol.FlightService', 'DoGet', { metadata: new Metadata().set('grpc-timeout', '200m') });
    await get.send(encodeTicket(Buffer.from('numbers')));
    get.end();
    await new Promise((r) => setTimeout(r, 600)); // read nothing: the server blocks on flow control
    await assert.rejects(
      (async () => {
        for await (const _ of get.messages()) void _;
      })(),
      (e: unknown) => e instanceof FlightgateError && e.status !== Status.OK,
    );
    await assertIdle();
  } finally {
    await channel.close();
  }
});

test('status messages reach pyarrow intact, including non-ASCII text', async () => {
  const out = await py(`
import sys, pyarrow.flight as flight
c = flight.FlightClient(sys.argv[1])
try:
    c.get_flight_info(flight.FlightDescriptor.for_path("nöpe"))
except Exception as e:
    print(type(e).__name__, "|", str(e).splitlines()[0])
`);
  assert.match(out, /invalid dataset name "nöpe"/);
});
