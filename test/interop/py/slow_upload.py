"""Uploads batches slowly and forever, printing progress, so a test can kill it mid-upload."""
import json, os, sys, time
import pyarrow as pa
import pyarrow.flight as flight

uri, dataset = sys.argv[1], sys.argv[2]
client = flight.FlightClient(uri)
schema = pa.schema([("id", pa.int64()), ("name", pa.utf8())])
descriptor = flight.FlightDescriptor.for_command(json.dumps({"dataset": dataset, "mode": "replace"}))
writer, _ = client.do_put(descriptor, schema)
for i in range(100000):
    batch = pa.record_batch([pa.array(range(i * 1000, (i + 1) * 1000), pa.int64()), pa.array(["x"] * 1000)], schema=schema)
    writer.write_batch(batch)
    print(f"sent {i + 1}", flush=True)
    time.sleep(0.02)
