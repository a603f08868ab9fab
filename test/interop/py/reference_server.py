"""A pyarrow Flight server implementing every RPC, for testing flightgate's TypeScript client."""
import json, sys, time
import pyarrow as pa
import pyarrow.flight as flight


def tables():
    nested_type = pa.struct([("a", pa.int32()), ("b", pa.utf8())])
    return {
        "plain": pa.table({"id": pa.array([1, 2, 3], pa.int64()), "name": ["a", "b", "c"], "v": [0.5, 1.5, None]}),
        "dict": pa.table({"d": pa.array(["x", "y", "x", None]).dictionary_encode()}),
        "nested": pa.table({
            "l": pa.array([[1, 2], [], None, [3]], pa.list_(pa.int64())),
            "s": pa.array([{"a": 1, "b": "p"}, None, {"a": None, "b": "q"}, {"a": 4, "b": None}], nested_type),
        }),
        "nulls": pa.table({
            "i": pa.array([None, None, 3, None], pa.int32()),
            "f": pa.array([None, None, None, 1.0], pa.float64()),
            "t": pa.array([None, "z", None, None], pa.utf8()),
            "b": pa.array([None, None, True, None], pa.bool_()),
        }),
        "empty": pa.table({"id": pa.array([], pa.int64()), "name": pa.array([], pa.utf8())}),
        "multi": pa.Table.from_batches([pa.record_batch({"n": pa.array(range(i * 10, i * 10 + 10), pa.int64())}) for i in range(5)]),
        "large": pa.table({"n": pa.array(range(6_000_000), pa.int64())}),
    }


class HeaderRecorder(flight.ServerMiddlewareFactory):
    def __init__(self, owner):
        self.owner = owner

    def start_call(self, info, headers):
        found = {k: v for k, v in headers.items() if k.startswith("x-")}
        if found:  # keep the last call that sent any, so a later query call doesn't erase it
            self.owner.last_headers = found
        return None


class EchoAuth(flight.ServerAuthHandler):
    def authenticate(self, outgoing, incoming):
        outgoing.write(b"echo:" + incoming.read())

    def is_valid(self, token):
        return b""


class Reference(flight.FlightServerBase):
    def __init__(self):
        self.last_headers = {}
        super().__init__("grpc://127.0.0.1:0", auth_handler=EchoAuth(), middleware={"headers": HeaderRecorder(self)})
        self.tables = tables()

    def _info(self, name, descriptor):
        t = self.tables[name]
        return flight.FlightInfo(t.schema, descriptor, [flight.FlightEndpoint(name.encode(), [])], t.num_rows, t.nbytes)

    def list_flights(self, context, criteria):
        for name in self.tables:
            yield self._info(name, flight.FlightDescriptor.for_path(name))

    def get_flight_info(self, context, descriptor):
        name = descriptor.path[0].decode()
        if name not in self.tables:
            raise flight.FlightServerError(f"no table {name}")
        return self._info(name, descriptor)

    def get_schema(self, context, descriptor):
        return flight.SchemaResult(self.tables[descriptor.path[0].decode()].schema)

    def do_get(self, context, ticket):
        return flight.RecordBatchStream(self.tables[ticket.ticket.decode()])

    def do_put(self, context, descriptor, reader, writer):
        table = reader.read_all()
        self.tables[descriptor.path[0].decode()] = table
        writer.write(pa.py_buffer(json.dumps({"rows": table.num_rows}).encode()))

    def do_exchange(self, context, descriptor, reader, writer):
        started = False
        for chunk in reader:
            if chunk.data is not None:
                if not started:
                    writer.begin(chunk.data.schema)
                    started = True
                writer.write_batch(chunk.data)
            elif chunk.app_metadata is not None:
                writer.write_metadata(chunk.app_metadata)

    def list_actions(self, context):
        return [("echo", "returns its body"), ("pylist", "a table as JSON rows"), ("last_headers", "x- headers of the previous call"), ("slow", "sleeps 2 s")]

    def do_action(self, context, action):
        body = action.body.to_pybytes() if action.body is not None else b""
        if action.type == "echo":
            yield body
        elif action.type == "pylist":
            yield json.dumps(self.tables[body.decode()].to_pylist(), default=str).encode()
        elif action.type == "last_headers":
            yield json.dumps(self.last_headers).encode()
        elif action.type == "slow":
            time.sleep(2)
            yield b"done"
        else:
            raise NotImplementedError(action.type)


if __name__ == "__main__":
    server = Reference()
    print(f"listening on {server.port}", flush=True)
    server.serve()
