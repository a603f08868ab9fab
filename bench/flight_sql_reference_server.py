"""
The reference for Flight SQL: a pyarrow (C++) Flight server answering CommandStatementQuery with
DuckDB's Python package, in the shape of GizmoSQL: the datasets loaded into DuckDB tables, GetFlightInfo plans the query for its schema, DoGet runs it and streams DuckDB's Arrow
record batches; Basic→Bearer header middleware as in bench/pyarrow_basic_bearer_server.py.

usage: flight_sql_reference_server.py GENERATED_PROTO_DIR NAME=IPC_FILE...
"""
import os
import sys

import duckdb
import pyarrow as pa
import pyarrow.flight as flight

sys.path.insert(0, sys.argv[1])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flight_sql_subset_pb2 as pb  # noqa: E402
from google.protobuf import any_pb2  # noqa: E402
from pyarrow_basic_bearer_server import BasicBearerFactory, NoOpAuthHandler, USERS  # noqa: E402

USERS["admin"] = "admin123"


def unpack(data, cls):
    a = any_pb2.Any()
    a.ParseFromString(data)
    m = cls()
    a.Unpack(m)
    return m


def pack(msg):
    a = any_pb2.Any()
    a.Pack(msg, type_url_prefix="type.googleapis.com/")
    return a.SerializeToString()


class Reference(flight.FlightServerBase):
    def __init__(self, location, tables):
        super().__init__(location, auth_handler=NoOpAuthHandler(), middleware={"auth": BasicBearerFactory()})
        self.db = duckdb.connect(config={"threads": 2})
        # Loaded into DuckDB's own tables, as a GizmoSQL database holds them, so every cursor sees them.
        for name, table in tables.items():
            self.db.register("incoming", table)
            self.db.execute(f'CREATE TABLE "{name}" AS SELECT * FROM incoming')
            self.db.unregister("incoming")

    def get_flight_info(self, context, descriptor):
        query = unpack(descriptor.command, pb.CommandStatementQuery).query
        schema = self.db.cursor().sql(query).limit(0).arrow().schema
        ticket = flight.Ticket(pack(pb.TicketStatementQuery(statement_handle=query.encode())))
        return flight.FlightInfo(schema, descriptor, [flight.FlightEndpoint(ticket, [])], -1, -1)

    def do_get(self, context, ticket):
        query = unpack(ticket.ticket, pb.TicketStatementQuery).statement_handle.decode()
        reader = self.db.cursor().execute(query).fetch_record_batch(rows_per_batch=1_000_000)
        return flight.RecordBatchStream(reader)


def main():
    tables = {}
    for arg in sys.argv[2:]:
        name, path = arg.split("=", 1)
        with pa.memory_map(path) as source:
            try:
                tables[name] = pa.ipc.open_stream(source).read_all()
            except pa.ArrowInvalid:
                tables[name] = pa.ipc.open_file(source).read_all()
    server = Reference("grpc://127.0.0.1:0", tables)
    print(f"listening on {server.port}", flush=True)
    server.serve()


if __name__ == "__main__":
    main()
