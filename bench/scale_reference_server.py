"""
The reference for bench/scale.py: a pyarrow (C++) Flight server doing what flightgate does in each
part, as plainly as pyarrow allows.

usage: scale_reference_server.py datasets N | doget FILE | doput DIR
"""
import sys

import pyarrow as pa
import pyarrow.flight as flight

from bench_common import write_upload_durably


class Reference(flight.FlightServerBase):
    def __init__(self, mode, arg):
        super().__init__("grpc://127.0.0.1:0")
        self.mode = mode
        self.tables = {}
        if mode == "datasets":
            table = pa.table({"id": pa.array(range(100), pa.int64()), "value": pa.array([i * 0.5 for i in range(100)], pa.float64()),
                              "name": pa.array([f"n{i % 97}" for i in range(100)], pa.string())})
            self.tables = {f"ds{i:05d}": table for i in range(int(arg))}
        elif mode == "doget":
            with pa.memory_map(arg) as source:
                self.tables = {"million": pa.ipc.open_stream(source).read_all()}
        self.dir = arg if mode == "doput" else None

    def info(self, name):
        table = self.tables[name]
        descriptor = flight.FlightDescriptor.for_path(name)
        return flight.FlightInfo(table.schema, descriptor, [flight.FlightEndpoint(name.encode(), [])], table.num_rows, table.nbytes)

    def list_flights(self, context, criteria):
        for name in self.tables:
            yield self.info(name)

    def get_flight_info(self, context, descriptor):
        return self.info(descriptor.path[0].decode())

    def do_get(self, context, ticket):
        return flight.RecordBatchStream(self.tables[ticket.ticket.decode()])

    def do_put(self, context, descriptor, reader, writer):
        write_upload_durably(reader, self.dir, descriptor.path[0].decode())


def main():
    server = Reference(sys.argv[1], sys.argv[2])
    print(f"listening on {server.port}", flush=True)
    server.serve()


if __name__ == "__main__":
    main()
