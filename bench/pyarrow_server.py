"""The reference: a pyarrow (C++) Flight server serving the same numbers file from memory."""
import sys
import pyarrow as pa
import pyarrow.flight as flight


class Reference(flight.FlightServerBase):
    def __init__(self, location, table):
        super().__init__(location)
        self.table = table

    def do_get(self, context, ticket):
        return flight.RecordBatchStream(self.table)

    def do_put(self, context, descriptor, reader, writer):
        # Receive and assemble the whole upload, as flightgate does before it commits.
        reader.read_all()


def main():
    path = sys.argv[1]
    with pa.memory_map(path) as source:
        table = pa.ipc.open_stream(source).read_all()
    server = Reference("grpc://127.0.0.1:0", table)
    print(f"listening on {server.port}", flush=True)
    server.serve()


if __name__ == "__main__":
    main()
