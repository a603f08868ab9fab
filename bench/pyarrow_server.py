"""
The reference: a pyarrow (C++) Flight server serving the same numbers file from memory.

usage: pyarrow_server.py NUMBERS_FILE [--durable DIR]
With --durable, DoPut writes each upload batch by batch to an Arrow IPC stream file in DIR and
fsyncs it (and renames it into place, fsyncing the directory) before it answers: the durability
flightgate promises with durableWrites. Without it, uploads are received whole into memory.
"""
import sys

import pyarrow as pa
import pyarrow.flight as flight

from bench_common import write_upload_durably


class Reference(flight.FlightServerBase):
    def __init__(self, location, table, durable_dir):
        super().__init__(location)
        self.table = table
        self.durable_dir = durable_dir

    def do_get(self, context, ticket):
        return flight.RecordBatchStream(self.table)

    def do_put(self, context, descriptor, reader, writer):
        if not self.durable_dir:
            # Receive and assemble the whole upload, as flightgate does before it commits.
            reader.read_all()
            return
        write_upload_durably(reader, self.durable_dir, "upload")


def main():
    path = sys.argv[1]
    durable_dir = sys.argv[sys.argv.index("--durable") + 1] if "--durable" in sys.argv else None
    with pa.memory_map(path) as source:
        table = pa.ipc.open_stream(source).read_all()
    server = Reference("grpc://127.0.0.1:0", table, durable_dir)
    print(f"listening on {server.port}", flush=True)
    server.serve()


if __name__ == "__main__":
    main()
