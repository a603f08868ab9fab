"""Interoperability: the official pyarrow Flight client calls every RPC of a running flightgate.

Run by test/interop/pyarrow-client.test.ts, which starts a demo server and sets:
  FLIGHTGATE_URI       grpc://host:port of the server
  FLIGHTGATE_DATA_DIR  its data directory (files written there are served by basename)

Standalone: FLIGHTGATE_URI=... FLIGHTGATE_DATA_DIR=... python -m unittest discover -s test/interop/py -p test_pyarrow_client.py -v

pyarrow's Python API has no wrappers for PollFlightInfo, CancelFlightInfo or RenewFlightEndpoint.
The last two are DoAction calls with standard action types, made here with pyarrow's do_action and
protobuf request bodies built around pyarrow's own serialize(). PollFlightInfo is not reachable
through pyarrow at all, so that one test makes the unary gRPC call over a minimal HTTP/2 client
(stdlib only) and parses the answer's FlightInfo with pyarrow's FlightInfo.deserialize.

How pyarrow 25 surfaces the gRPC status codes flightgate uses (asserted below):
  INVALID_ARGUMENT     pa.ArrowInvalid (a ValueError)
  NOT_FOUND            pa.ArrowKeyError (a KeyError)
  UNIMPLEMENTED        pa.ArrowNotImplementedError (a NotImplementedError)
  FAILED_PRECONDITION  pa.ArrowInvalid ("gRPC returned precondition failed error")
  ALREADY_EXISTS       pa.ArrowException itself: pyarrow has no subclass for it
  INTERNAL             flight.FlightInternalError
"""
import array
import datetime
import decimal
import json
import math
import os
import socket
import struct
import threading
import time
import unittest
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.feather as feather
import pyarrow.flight as flight
import pyarrow.parquet as pq

URI = os.environ.get("FLIGHTGATE_URI", "")
DATA_DIR = os.environ.get("FLIGHTGATE_DATA_DIR", "")
NUMBERS_ROWS = 100_000
REUSE_CONNECTION = "arrow-flight-reuse-connection://?"

_client = None


def client():
    global _client
    if _client is None:
        _client = flight.FlightClient(URI)
    return _client


def setUpModule():
    if not URI or not DATA_DIR:
        raise RuntimeError("set FLIGHTGATE_URI and FLIGHTGATE_DATA_DIR (see the module docstring)")
    write_data_files()
    # The catalog looks for new files on a miss at most every 100 ms: let that window pass once,
    # so the first request for each file finds it whatever the server did just before.
    time.sleep(0.25)


def tearDownModule():
    if _client is not None:
        _client.close()


# ---------------------------------------------------------------- helpers


def path(name):
    return flight.FlightDescriptor.for_path(name)


def cmd(dataset, mode=None):
    body = {"dataset": dataset}
    if mode is not None:
        body["mode"] = mode
    return flight.FlightDescriptor.for_command(json.dumps(body).encode())


def put(descriptor, data, schema=None):
    """Uploads a table or a list of record batches; returns the server's PutResult JSON."""
    if schema is None:
        schema = data.schema if isinstance(data, pa.Table) else data[0].schema
    writer, results = client().do_put(descriptor, schema)
    try:
        if isinstance(data, pa.Table):
            writer.write_table(data)
        else:
            for batch in data:
                writer.write_batch(batch)
        writer.done_writing()
        buf = results.read()
    finally:
        writer.close()
    return json.loads(buf.to_pybytes()) if buf is not None else None


def fetch(name):
    """Reads a dataset the way a Flight client should: GetFlightInfo, then DoGet on its endpoint."""
    info = client().get_flight_info(path(name))
    assert len(info.endpoints) == 1, info.endpoints
    table = client().do_get(info.endpoints[0].ticket).read_all()
    return info, table


def drop(name):
    list(client().do_action(flight.Action("drop", json.dumps({"dataset": name}).encode())))


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def proto_field(number, payload):
    """A length-delimited protobuf field."""
    return varint((number << 3) | 2) + varint(len(payload)) + payload


def proto_fields(buf):
    """Parses protobuf bytes into a list of (field number, wire type, value)."""
    fields = []
    i = 0

    def read_varint():
        nonlocal i
        shift = result = 0
        while True:
            b = buf[i]
            i += 1
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result

    while i < len(buf):
        key = read_varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            value = read_varint()
        elif wire == 1:
            value = buf[i:i + 8]
            i += 8
        elif wire == 2:
            n = read_varint()
            value = buf[i:i + n]
            i += n
        elif wire == 5:
            value = buf[i:i + 4]
            i += 4
        else:
            raise ValueError(f"unexpected wire type {wire}")
        fields.append((number, wire, value if wire == 0 else bytes(value)))
    return fields


def to_ns(ts):
    """TimestampScalar -> integer nanoseconds since the epoch."""
    return pc.cast(ts, pa.timestamp("ns", tz="UTC")).value


def int64_column(n, start=0):
    return pa.py_buffer(array.array("q", range(start, start + n)))


def assert_tables_equal(test, actual, expected):
    test.assertEqual(actual.schema, expected.schema)
    test.assertEqual(actual.num_rows, expected.num_rows)
    if not actual.equals(expected):
        a, e = actual.combine_chunks(), expected.combine_chunks()
        for name in expected.column_names:
            test.assertEqual(a.column(name).to_pylist(), e.column(name).to_pylist(), f"column {name}")
        test.fail("tables differ")


# ---------------------------------------------------------------- a minimal gRPC call (PollFlightInfo)


def _h2_frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def _hpack_int(value, prefix_bits, first_byte):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first_byte | value])
    out = bytearray([first_byte | limit])
    value -= limit
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _hpack_string(s):
    return _hpack_int(len(s), 7, 0) + s


def grpc_unary(method, request, timeout=10.0):
    """Makes one unary gRPC call over cleartext HTTP/2; returns (response messages, trailers seen)."""
    url = urlparse(URI)
    assert url.scheme == "grpc", "the raw gRPC helper speaks cleartext only"
    headers = b"".join([
        b"\x83",  # :method POST (static table 3)
        b"\x86",  # :scheme http (static table 6)
        _hpack_int(4, 4, 0) + _hpack_string(f"/arrow.flight.protocol.FlightService/{method}".encode()),  # :path
        _hpack_int(1, 4, 0) + _hpack_string(url.netloc.encode()),  # :authority
        _hpack_int(31, 4, 0) + _hpack_string(b"application/grpc"),  # content-type
        b"\x00" + _hpack_string(b"te") + _hpack_string(b"trailers"),
    ])
    message = b"\x00" + struct.pack(">I", len(request)) + request
    with socket.create_connection((url.hostname, url.port), timeout=timeout) as sock:
        sock.sendall(
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
            + _h2_frame(0x4, 0, 0)
            + _h2_frame(0x1, 0x4, 1, headers)  # HEADERS, END_HEADERS
            + _h2_frame(0x0, 0x1, 1, message)  # DATA, END_STREAM
        )
        buf = b""

        def read(n):
            nonlocal buf
            while len(buf) < n:
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError("connection closed before the call ended")
                buf += chunk
            out, buf = buf[:n], buf[n:]
            return out

        data = b""
        header_blocks = 0
        while True:
            head = read(9)
            length = int.from_bytes(head[:3], "big")
            kind, flags = head[3], head[4]
            stream = int.from_bytes(head[5:9], "big") & 0x7FFFFFFF
            payload = read(length)
            if kind == 0x4 and not flags & 0x1:
                sock.sendall(_h2_frame(0x4, 0x1, 0))  # SETTINGS ACK
            elif kind == 0x6 and not flags & 0x1:
                sock.sendall(_h2_frame(0x6, 0x1, 0, payload))  # PING ACK
            elif kind == 0x7:
                raise ConnectionError("server sent GOAWAY")
            elif kind == 0x3 and stream == 1:
                raise ConnectionError(f"server reset the stream: {payload.hex()}")
            elif stream == 1 and kind in (0x0, 0x1):
                if kind == 0x0:
                    if flags & 0x8:  # PADDED
                        payload = payload[1:len(payload) - payload[0]]
                    data += payload
                else:
                    header_blocks += 1
                if flags & 0x1:  # END_STREAM
                    break
    messages = []
    while data:
        compressed, n = data[0], struct.unpack(">I", data[1:5])[0]
        assert compressed == 0, "compressed response"
        messages.append(data[5:5 + n])
        data = data[5 + n:]
    return messages, header_blocks


# ---------------------------------------------------------------- files dropped into the data dir

FILE_TABLE = pa.table({
    "id": pa.array(range(1, 1001), pa.int64()),
    "value": pa.array([None if i % 10 == 0 else i * 0.25 for i in range(1000)], pa.float64()),
    "name": pa.array([None if i % 7 == 0 else f"row-{i}" for i in range(1000)], pa.string()),
    "flag": pa.array([None if i % 11 == 0 else i % 2 == 0 for i in range(1000)], pa.bool_()),
    "small": pa.array([i % 100 - 50 for i in range(1000)], pa.int32()),
    "tag": pa.array([None if i % 13 == 0 else f"tag{i % 5}" for i in range(1000)]).dictionary_encode(),
})

CSV_TABLE = pa.table({
    "id": pa.array(range(1, 301), pa.int64()),
    "big": pa.array([2**53 + i if i % 2 else -(2**62) - i for i in range(300)], pa.int64()),
    "price": pa.array([None if i % 13 == 0 else i / 7 for i in range(300)], pa.float64()),
    "ok": pa.array([None if i % 17 == 0 else i % 3 == 0 for i in range(300)], pa.bool_()),
    "label": pa.array([None if i % 19 == 0 else f'item {i}, "q" ü' for i in range(300)], pa.string()),
})


EMPTY_SCHEMA = pa.schema([("id", pa.int64()), ("name", pa.string())])

DELTA_TABLE = pa.table({
    "k": pa.chunked_array([
        pa.DictionaryArray.from_arrays(pa.array([0, 1, 0], pa.int32()), pa.array(["a", "b"])),
        pa.DictionaryArray.from_arrays(pa.array([2, 0, None], pa.int32()), pa.array(["a", "b", "c"])),
        pa.DictionaryArray.from_arrays(pa.array([3, 3], pa.int32()), pa.array(["a", "b", "c", "d"])),
    ]),
    "n": pa.chunked_array([[1, 2, 3], [4, 5, 6], [7, 8]], pa.int64()),
})


def write_data_files():
    batches = FILE_TABLE.to_batches(max_chunksize=300)
    with pa.OSFile(os.path.join(DATA_DIR, "pyfile_ipc.arrow"), "wb") as sink:
        with pa.ipc.new_file(sink, FILE_TABLE.schema) as w:
            for b in batches:
                w.write_batch(b)
    with pa.OSFile(os.path.join(DATA_DIR, "pyfile_stream.arrows"), "wb") as sink:
        with pa.ipc.new_stream(sink, FILE_TABLE.schema) as w:
            for b in batches:
                w.write_batch(b)
    feather.write_feather(FILE_TABLE, os.path.join(DATA_DIR, "pyfile_feather.feather"), version=2, chunksize=300)
    pq.write_table(FILE_TABLE, os.path.join(DATA_DIR, "pyfile_parquet.parquet"), row_group_size=250)
    pacsv.write_csv(CSV_TABLE, os.path.join(DATA_DIR, "pyfile_csv.csv"))
    # Header-only files: a schema and no rows.
    with pa.OSFile(os.path.join(DATA_DIR, "pyfile_empty.arrow"), "wb") as sink:
        with pa.ipc.new_file(sink, EMPTY_SCHEMA):
            pass
    pq.write_table(EMPTY_SCHEMA.empty_table(), os.path.join(DATA_DIR, "pyfile_empty_pq.parquet"))
    pacsv.write_csv(EMPTY_SCHEMA.empty_table(), os.path.join(DATA_DIR, "pyfile_empty_csv.csv"))
    # A stream whose dictionary grows batch by batch (delta dictionary batches).
    with pa.OSFile(os.path.join(DATA_DIR, "pyfile_deltas.arrows"), "wb") as sink:
        options = pa.ipc.IpcWriteOptions(emit_dictionary_deltas=True)
        with pa.ipc.new_stream(sink, DELTA_TABLE.schema, options=options) as w:
            w.write_table(DELTA_TABLE)


# ---------------------------------------------------------------- tests


class TestRead(unittest.TestCase):
    """Handshake, listing, metadata and reading the demo datasets."""

    def test_handshake_echoes_payload(self):
        class EchoAuth(flight.ClientAuthHandler):
            def __init__(self):
                super().__init__()
                self.answers = []

            def authenticate(self, outgoing, incoming):
                outgoing.write(b"hello flightgate \x00\xff")
                self.answers.append(incoming.read())
                outgoing.write(b"")
                self.answers.append(incoming.read())
                outgoing.write(b"x" * 60_000)
                self.answers.append(incoming.read())

            def get_token(self):
                return b""

        handler = EchoAuth()
        c = flight.FlightClient(URI)
        try:
            c.authenticate(handler)
            self.assertEqual(handler.answers[0], b"hello flightgate \x00\xff")
            self.assertIn(handler.answers[1], (b"", None))  # pyarrow reads an empty payload as None
            self.assertEqual(handler.answers[2], b"x" * 60_000)
            # The connection still serves calls after the handshake.
            self.assertEqual(c.do_get(flight.Ticket(b"db1")).read_all().num_rows, 3)
        finally:
            c.close()

    def test_handshake_message_over_the_limit(self):
        # Handshake messages are read before any credential is checked, so they are kept small.
        class BigAuth(flight.ClientAuthHandler):
            def authenticate(self, outgoing, incoming):
                outgoing.write(b"x" * 200_000)
                incoming.read()

            def get_token(self):
                return b""

        c = flight.FlightClient(URI)
        try:
            with self.assertRaises(pa.ArrowException) as caught:
                c.authenticate(BigAuth())
            self.assertIn("transport.maxHandshakeBytes", str(caught.exception))
        finally:
            c.close()

    def test_list_flights_all(self):
        infos = {tuple(p.decode() for p in f.descriptor.path): f for f in client().list_flights()}
        for name, rows in (("db1", 3), ("db2", 3), ("numbers", NUMBERS_ROWS)):
            self.assertIn((name,), infos)
            self.assertEqual(infos[(name,)].total_records, rows)
            self.assertEqual(len(infos[(name,)].endpoints), 1)
        # The tickets ListFlights hands out work for DoGet.
        t = client().do_get(infos[("db2",)].endpoints[0].ticket).read_all()
        self.assertEqual(t.column("id").to_pylist(), [4, 5, 6])

    def test_list_flights_glob(self):
        names = sorted(f.descriptor.path[0].decode() for f in client().list_flights(b"db*"))
        self.assertEqual(names, ["db1", "db2"])
        names = [f.descriptor.path[0].decode() for f in client().list_flights(b"numb?rs")]
        self.assertEqual(names, ["numbers"])
        self.assertEqual(list(client().list_flights(b"no-such-*")), [])

    def test_get_flight_info(self):
        info = client().get_flight_info(path("db1"))
        self.assertEqual(info.schema, pa.schema([pa.field("id", pa.int64(), nullable=False), ("name", pa.string())]))
        self.assertEqual(info.total_records, 3)
        self.assertGreater(info.total_bytes, 0)
        self.assertEqual(info.descriptor, path("db1"))
        self.assertTrue(info.ordered)
        self.assertEqual(len(info.endpoints), 1)
        endpoint = info.endpoints[0]
        self.assertTrue(endpoint.ticket.ticket)
        self.assertEqual(len(endpoint.locations), 1)
        self.assertEqual(endpoint.locations[0], flight.Location(REUSE_CONNECTION))
        self.assertIsNotNone(endpoint.expiration_time)
        self.assertGreater(to_ns(endpoint.expiration_time), time.time_ns())
        # The descriptor is echoed back as given, CMD included.
        info = client().get_flight_info(cmd("db2"))
        self.assertEqual(info.descriptor, cmd("db2"))
        self.assertEqual(info.total_records, 3)

    def test_poll_flight_info(self):
        messages, header_blocks = grpc_unary("PollFlightInfo", path("db1").serialize())
        self.assertEqual(len(messages), 1)
        self.assertEqual(header_blocks, 2, "expected response headers and trailers")
        fields = proto_fields(messages[0])
        numbers = [n for n, _, _ in fields]
        self.assertIn(1, numbers, "PollInfo.info missing")
        self.assertNotIn(2, numbers, "a complete flight has no flight_descriptor to poll again")
        info = flight.FlightInfo.deserialize(next(v for n, _, v in fields if n == 1))
        self.assertEqual(info.total_records, 3)
        self.assertEqual(info.schema, client().get_schema(path("db1")).schema)
        self.assertEqual(client().do_get(info.endpoints[0].ticket).read_all().column("name").to_pylist(), ["a", "b", "c"])
        progress = [v for n, w, v in fields if n == 3]
        self.assertIn(progress, ([], [struct.pack("<d", 1.0)]))
        # An unknown dataset is a trailers-only error answer: no message.
        messages, header_blocks = grpc_unary("PollFlightInfo", path("no_such_dataset").serialize())
        self.assertEqual(messages, [])
        self.assertEqual(header_blocks, 1)

    def test_get_schema(self):
        self.assertEqual(client().get_schema(path("db2")).schema, client().get_flight_info(path("db2")).schema)
        schema = client().get_schema(path("numbers")).schema
        self.assertEqual(schema.names, ["id", "value", "name"])
        self.assertEqual(schema.types, [pa.int64(), pa.float64(), pa.string()])

    def test_do_get_db1_db2(self):
        _, t1 = fetch("db1")
        self.assertEqual(t1.to_pydict(), {"id": [1, 2, 3], "name": ["a", "b", "c"]})
        _, t2 = fetch("db2")
        self.assertEqual(t2.to_pydict(), {"id": [4, 5, 6], "name": ["x", "y", "z"]})

    def test_do_get_numbers(self):
        info, t = fetch("numbers")
        self.assertEqual(info.total_records, NUMBERS_ROWS)
        self.assertEqual(t.num_rows, NUMBERS_ROWS)
        self.assertEqual(t.schema, info.schema)
        n = NUMBERS_ROWS
        self.assertEqual(pc.sum(t.column("id")).as_py(), n * (n - 1) // 2)
        self.assertEqual(t.column("id").to_pylist(), list(range(n)))
        first, last = t.slice(0, 1).to_pylist()[0], t.slice(n - 1, 1).to_pylist()[0]
        self.assertEqual(first, {"id": 0, "value": 0.0, "name": "n000000000"})
        self.assertEqual(last, {"id": n - 1, "value": ((n - 1) * 7919 % 1_000_003) / 1000, "name": f"n{n - 1:09d}"})
        values = t.column("value").to_pylist()
        for i in (1, 2, 12345, 54321):
            self.assertEqual(values[i], (i * 7919 % 1_000_003) / 1000)
        self.assertEqual(t.column("name")[777].as_py(), "n000000777")

    def test_do_get_bare_name_ticket(self):
        t = client().do_get(flight.Ticket(b"db1")).read_all()
        self.assertEqual(t.to_pydict(), {"id": [1, 2, 3], "name": ["a", "b", "c"]})


class TestPut(unittest.TestCase):
    """DoPut of many shapes of data, read back value by value; upload modes and their errors."""

    def roundtrip(self, name, data, schema=None):
        result = put(path(name), data, schema)
        expected = data if isinstance(data, pa.Table) else pa.Table.from_batches(data, schema)
        self.assertEqual(result["dataset"], name)
        self.assertEqual(result["rows"], expected.num_rows)
        info, actual = fetch(name)
        self.assertEqual(info.total_records, expected.num_rows)
        self.assertEqual(info.schema, expected.schema)
        assert_tables_equal(self, actual, expected)
        return actual

    def test_put_dictionary_columns(self):
        table = pa.table({
            "color": pa.array(["red", "green", None, "red", "blue", "green"]).dictionary_encode(),
            "code": pa.array([3, 1, 3, None, 2, 1], pa.int64()).dictionary_encode(),
            "small_index": pa.DictionaryArray.from_arrays(pa.array([0, 1, 1, 0, None, 1], pa.int8()), pa.array(["x", "y"])),
        })
        self.roundtrip("py_dict", table)

    def test_put_dictionary_changing_across_batches(self):
        # Each batch has its own dictionary: the stream carries dictionary replacements.
        schema = pa.schema([("tag", pa.dictionary(pa.int32(), pa.string())), ("n", pa.int64())])
        batches = [
            pa.record_batch([pa.array(["a", "b", "a"]).dictionary_encode(), pa.array([1, 2, 3])], schema=schema),
            pa.record_batch([pa.array(["c", None, "d", "c"]).dictionary_encode(), pa.array([4, 5, 6, 7])], schema=schema),
            pa.record_batch([pa.array(["b"]).dictionary_encode(), pa.array([8])], schema=schema),
        ]
        put(path("py_dict_batches"), batches)
        _, t = fetch("py_dict_batches")
        self.assertEqual(t.column("tag").to_pylist(), ["a", "b", "a", "c", None, "d", "c", "b"])
        self.assertEqual(t.column("n").to_pylist(), list(range(1, 9)))
        # Appending more dictionary batches keeps every segment's own dictionary.
        put(cmd("py_dict_batches", "append"), [pa.record_batch([pa.array(["z", "a"]).dictionary_encode(), pa.array([9, 10])], schema=schema)])
        _, t = fetch("py_dict_batches")
        self.assertEqual(t.column("tag").to_pylist(), ["a", "b", "a", "c", None, "d", "c", "b", "z", "a"])
        self.assertEqual(t.column("n").to_pylist(), list(range(1, 11)))

    def test_put_nested_columns(self):
        struct_type = pa.struct([("a", pa.int32()), ("b", pa.string())])
        table = pa.table({
            "ints": pa.array([[1, 2, 3], [], None, [4, None, 6], [2**62]], pa.list_(pa.int64())),
            "rec": pa.array([{"a": 1, "b": "one"}, None, {"a": None, "b": "three"}, {"a": 4, "b": None}, {"a": -5, "b": ""}], struct_type),
            "deep": pa.array([[{"a": 1, "b": "x"}], None, [], [None, {"a": 2, "b": "y"}], [{"a": 3, "b": None}]], pa.list_(struct_type)),
        })
        self.roundtrip("py_nested", table)

    def test_put_null_heavy(self):
        n = 1000

        def sparse(values, type_):
            return pa.array([values[i % len(values)] if i % 97 == 5 else None for i in range(n)], type_)

        struct_type = pa.struct([("a", pa.int32()), ("b", pa.string())])
        table = pa.table({
            "i8": sparse([-8, 7], pa.int8()),
            "i16": sparse([-1600, 1600], pa.int16()),
            "i32": sparse([-3, 2**31 - 1], pa.int32()),
            "i64": sparse([-(2**63), 2**63 - 1], pa.int64()),
            "u8": sparse([255, 0], pa.uint8()),
            "u16": sparse([65535], pa.uint16()),
            "u32": sparse([2**32 - 1], pa.uint32()),
            "u64": sparse([2**64 - 1], pa.uint64()),
            "f32": sparse([1.5, -0.25], pa.float32()),
            "f64": sparse([math.pi, -1e300], pa.float64()),
            "b": sparse([True, False], pa.bool_()),
            "s": sparse(["héllo", "", "x" * 300], pa.string()),
            "ls": sparse(["large"], pa.large_string()),
            "bin": sparse([b"\x00\x01", b""], pa.binary()),
            "fsb": sparse([b"abcd"], pa.binary(4)),
            "d32": sparse([datetime.date(2024, 2, 29)], pa.date32()),
            "ts": sparse([datetime.datetime(2024, 1, 2, 3, 4, 5, 678901)], pa.timestamp("us", tz="UTC")),
            "t64": sparse([datetime.time(12, 34, 56, 789)], pa.time64("us")),
            "dur": sparse([datetime.timedelta(seconds=5)], pa.duration("ms")),
            "dec": sparse([decimal.Decimal("12345.67"), decimal.Decimal("-0.01")], pa.decimal128(10, 2)),
            "lst": sparse([[1, None], []], pa.list_(pa.int64())),
            "st": sparse([{"a": 1, "b": None}], struct_type),
            "dict": pa.array([("k" if i % 97 == 5 else None) for i in range(n)]).dictionary_encode(),
            "all_null_i64": pa.nulls(n, pa.int64()),
            "null_type": pa.nulls(n),
        })
        for column in table.columns:
            self.assertGreater(column.null_count, n * 0.9)
        self.roundtrip("py_nulls", table)

    def test_put_empty_table(self):
        schema = pa.schema([("id", pa.int64()), ("name", pa.string()), ("l", pa.list_(pa.int32()))])
        result = put(path("py_empty"), schema.empty_table())
        self.assertEqual(result["rows"], 0)
        info, t = fetch("py_empty")
        self.assertEqual(info.total_records, 0)
        self.assertEqual(t.schema, schema)
        self.assertEqual(t.num_rows, 0)
        # Explicit zero-row batches are data too.
        empty_batch = pa.record_batch([pa.array([], pa.int64()), pa.array([], pa.string()), pa.array([], pa.list_(pa.int32()))], schema=schema)
        self.roundtrip("py_empty_batches", [empty_batch, empty_batch], schema)

    def test_put_multi_batch(self):
        schema = pa.schema([("id", pa.int64()), ("text", pa.string()), ("x", pa.float64())])
        batches = [
            pa.record_batch([
                pa.array(range(start, start + size), pa.int64()),
                pa.array([f"t{i}" for i in range(start, start + size)]),
                pa.array([i / 3 for i in range(start, start + size)]),
            ], schema=schema)
            for start, size in ((0, 1000), (1000, 1), (1001, 2500), (3501, 499), (4000, 3000))
        ]
        t = self.roundtrip("py_multi", batches)
        self.assertEqual([b.num_rows for b in t.to_batches()], [1000, 1, 2500, 499, 3000])

    def test_put_large_batch_both_ways(self):
        n = 6_000_000  # one 48 MB int64 column plus a 6 MB int8 column, in a single record batch
        ids = pa.Array.from_buffers(pa.int64(), n, [None, int64_column(n)])
        bytes_col = pa.Array.from_buffers(pa.int8(), n, [None, pa.py_buffer(bytes(range(100)) * (n // 100))])
        batch = pa.record_batch([ids, bytes_col], names=["id", "b"])
        self.assertGreater(batch.nbytes, 40 * 1024 * 1024)
        result = put(path("py_large"), [batch])
        self.assertEqual(result["rows"], n)
        info, t = fetch("py_large")
        self.assertEqual(info.total_records, n)
        self.assertGreater(info.total_bytes, 40 * 1024 * 1024)
        self.assertEqual([b.num_rows for b in t.to_batches()], [n])
        self.assertTrue(t.column("id").chunk(0).equals(ids))
        self.assertTrue(t.column("b").chunk(0).equals(bytes_col))
        drop("py_large")

    def test_put_union_columns(self):
        sparse = pa.UnionArray.from_sparse(
            pa.array([0, 1, 0, 1, 1], pa.int8()),
            [pa.array([1, 2, 3, 4, 5], pa.int64()), pa.array(["a", "b", "c", "d", "e"])],
            ["i", "s"],
        )
        dense = pa.UnionArray.from_dense(
            pa.array([0, 1, 1, 0], pa.int8()),
            pa.array([0, 0, 1, 1], pa.int32()),
            [pa.array([10, None], pa.int64()), pa.array(["x", "y"])],
            ["i", "s"],
        )
        # The schema sits at a different byte offset of the first FlightData for each length of
        # the dataset name: four consecutive lengths cover every 4-byte alignment.
        for union in (sparse, dense):
            table = pa.table({"u": union, "n": pa.array(range(len(union)), pa.int64())})
            for name in ("py_union_a", "py_union_ab", "py_union_abc", "py_union_abcd"):
                name = f"{name}_{union.type.mode}"
                with self.subTest(dataset=name):
                    self.roundtrip(name, table)

    def test_put_compressed_and_delta_dictionaries(self):
        table = pa.table({
            "id": pa.array(range(20_000), pa.int64()),
            "s": pa.array([f"value {i % 37}" for i in range(20_000)]),
        })
        for codec in ("zstd", "lz4"):
            with self.subTest(codec=codec):
                options = flight.FlightCallOptions(write_options=pa.ipc.IpcWriteOptions(compression=codec))
                writer, results = client().do_put(path(f"py_compressed_{codec}"), table.schema, options)
                writer.write_table(table, max_chunksize=5000)
                writer.done_writing()
                results.read()
                writer.close()
                info, t = fetch(f"py_compressed_{codec}")
                self.assertEqual(info.total_records, table.num_rows)
                assert_tables_equal(self, t, table)
        options = flight.FlightCallOptions(write_options=pa.ipc.IpcWriteOptions(emit_dictionary_deltas=True))
        writer, results = client().do_put(path("py_deltas"), DELTA_TABLE.schema, options)
        writer.write_table(DELTA_TABLE)
        writer.done_writing()
        results.read()
        writer.close()
        _, t = fetch("py_deltas")
        self.assertEqual(t.to_pylist(), DELTA_TABLE.to_pylist())

    def test_put_many_small_batches(self):
        schema = pa.schema([("id", pa.int64()), ("s", pa.string())])
        batches = [pa.record_batch([pa.array([i, i + 1], pa.int64()), pa.array([str(i), None])], schema=schema) for i in range(0, 4000, 2)]
        t = self.roundtrip("py_small_batches", batches)
        self.assertEqual(len(t.to_batches()), 2000)

    def test_put_over_a_file_dataset_is_refused(self):
        table = pa.table({"id": pa.array([1], pa.int64())})
        for descriptor in (path("numbers"), cmd("numbers", "replace"), cmd("numbers", "append")):
            with self.subTest(descriptor=descriptor):
                # FAILED_PRECONDITION: pyarrow raises ArrowInvalid for it.
                with self.assertRaises(pa.ArrowInvalid) as ctx:
                    put(descriptor, table)
                self.assertIn("read-only", str(ctx.exception))
        self.assertEqual(client().get_flight_info(path("numbers")).total_records, NUMBERS_ROWS)

    def test_put_result_metadata(self):
        table = pa.table({"v": [1, 2, 3, 4]})
        result = put(path("py_result"), table)
        self.assertEqual(result, {"dataset": "py_result", "mode": "create", "rows": 4, "bytes": result["bytes"], "totalRows": 4})
        self.assertGreater(result["bytes"], 0)

    def test_put_path_existing_is_already_exists(self):
        original = fetch("db1")[1]
        with self.assertRaises(pa.ArrowException) as ctx:
            put(path("db1"), pa.table({"id": pa.array([9], pa.int64()), "name": ["q"]}))
        # pyarrow has no exception class of its own for ALREADY_EXISTS: it raises the base class.
        self.assertIs(type(ctx.exception), pa.ArrowException)
        self.assertIn("already exists", str(ctx.exception))
        self.assertIn('"db1"', str(ctx.exception))
        self.assertTrue(fetch("db1")[1].equals(original))

    def test_put_cmd_create_append_replace(self):
        name = "py_modes"
        first = pa.table({"id": pa.array([1, 2], pa.int64()), "s": ["a", "b"]})
        self.assertEqual(put(cmd(name), first)["mode"], "create")  # mode defaults to create
        result = put(cmd(name, "append"), pa.table({"id": pa.array([3], pa.int64()), "s": ["c"]}))
        self.assertEqual((result["mode"], result["rows"], result["totalRows"]), ("append", 1, 3))
        result = put(cmd(name, "append"), [pa.record_batch([pa.array([4, 5], pa.int64()), pa.array(["d", None])], names=["id", "s"])])
        self.assertEqual(result["totalRows"], 5)
        info, t = fetch(name)
        self.assertEqual(info.total_records, 5)
        self.assertEqual(t.to_pydict(), {"id": [1, 2, 3, 4, 5], "s": ["a", "b", "c", "d", None]})
        with self.assertRaises(pa.ArrowException) as ctx:
            put(cmd(name, "create"), first)
        self.assertIs(type(ctx.exception), pa.ArrowException)
        self.assertIn("already exists", str(ctx.exception))
        # Replace may change the schema.
        replacement = pa.table({"other": pa.array([1.5, None], pa.float64())})
        result = put(cmd(name, "replace"), replacement)
        self.assertEqual((result["mode"], result["rows"], result["totalRows"]), ("replace", 2, 2))
        info, t = fetch(name)
        self.assertEqual(info.total_records, 2)
        assert_tables_equal(self, t, replacement)
        # Append to a dataset that does not exist yet creates it.
        put(cmd("py_modes_new", "append"), first)
        self.assertEqual(fetch("py_modes_new")[1].to_pydict(), first.to_pydict())

    def test_put_append_other_schema_is_invalid_and_keeps_data(self):
        name = "py_append_mismatch"
        original = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "s": ["a", "b", "c"]})
        put(path(name), original)
        for other in (
            pa.table({"id": pa.array([4], pa.int32()), "s": ["d"]}),  # another type
            pa.table({"s": ["d"], "id": pa.array([4], pa.int64())}),  # another order
            pa.table({"id": pa.array([4], pa.int64())}),  # fewer columns
            pa.table({"id": pa.array([4], pa.int64()), "s": ["d"], "extra": [1]}),  # more columns
        ):
            with self.assertRaises(pa.ArrowInvalid) as ctx:
                put(cmd(name, "append"), other)
            self.assertIn("cannot append", str(ctx.exception))
            info, t = fetch(name)
            self.assertEqual(info.total_records, 3)
            assert_tables_equal(self, t, original)
        # A good append still works afterwards.
        put(cmd(name, "append"), pa.table({"id": pa.array([4], pa.int64()), "s": ["d"]}))
        self.assertEqual(fetch(name)[1].column("id").to_pylist(), [1, 2, 3, 4])


class TestFiles(unittest.TestCase):
    """Files pyarrow writes into the data directory are served by their basename."""

    def check_file(self, name, expect_bytes=True):
        info, t = fetch(name)
        self.assertEqual(info.total_records, FILE_TABLE.num_rows)
        if expect_bytes:
            self.assertGreater(info.total_bytes, 0)
        self.assertEqual(info.schema, t.schema)
        return t

    def test_ipc_file(self):
        t = self.check_file("pyfile_ipc")
        assert_tables_equal(self, t, FILE_TABLE)
        self.assertEqual([b.num_rows for b in t.to_batches()], [300, 300, 300, 100])

    def test_ipc_stream(self):
        assert_tables_equal(self, self.check_file("pyfile_stream"), FILE_TABLE)

    def test_feather_v2(self):
        # write_feather compresses with LZ4 by default: the buffers pass through to the client.
        assert_tables_equal(self, self.check_file("pyfile_feather"), FILE_TABLE)

    def test_parquet_row_groups(self):
        self.assertEqual(pq.ParquetFile(os.path.join(DATA_DIR, "pyfile_parquet.parquet")).num_row_groups, 4)
        t = self.check_file("pyfile_parquet", expect_bytes=False)
        self.assertEqual(t.column_names, FILE_TABLE.column_names)
        for name in FILE_TABLE.column_names:
            self.assertEqual(t.column(name).to_pylist(), FILE_TABLE.column(name).to_pylist(), f"column {name}")

    def test_header_only_files(self):
        for name in ("pyfile_empty", "pyfile_empty_pq"):
            with self.subTest(dataset=name):
                info, t = fetch(name)
                self.assertEqual(info.total_records, 0)
                self.assertEqual(t.num_rows, 0)
                self.assertEqual(t.schema.names, EMPTY_SCHEMA.names)
                self.assertEqual(t.schema.types, EMPTY_SCHEMA.types)
        # A CSV header with no rows: nothing to infer types from, so the columns are text.
        info, t = fetch("pyfile_empty_csv")
        self.assertEqual(info.total_records, 0)
        self.assertEqual((t.num_rows, t.schema.names), (0, EMPTY_SCHEMA.names))

    def test_stream_with_delta_dictionaries(self):
        info, t = fetch("pyfile_deltas")
        self.assertEqual(info.total_records, DELTA_TABLE.num_rows)
        self.assertEqual(t.to_pylist(), DELTA_TABLE.to_pylist())

    def test_removed_file_is_not_found(self):
        file = os.path.join(DATA_DIR, "pyfile_removed.arrows")
        table = pa.table({"a": [1, 2, 3]})
        with pa.ipc.new_stream(file, table.schema) as w:
            w.write_table(table)
        time.sleep(0.15)
        info, t = fetch("pyfile_removed")
        self.assertEqual(t.to_pydict(), {"a": [1, 2, 3]})
        os.remove(file)
        # The catalog still remembers the file for a moment (its directory listing is reused for
        # up to 2 s): asking for it must say NOT_FOUND (pyarrow: ArrowKeyError), not fail with an
        # internal error, and listing must go on working without it.
        with self.subTest("GetFlightInfo"):
            with self.assertRaises(pa.ArrowKeyError):
                client().get_flight_info(path("pyfile_removed"))
        with self.subTest("DoGet"):
            with self.assertRaises(pa.ArrowKeyError):
                client().do_get(info.endpoints[0].ticket).read_all()
        with self.subTest("ListFlights"):
            names = [f.descriptor.path[0].decode() for f in client().list_flights()]
            self.assertIn("db1", names)
            self.assertNotIn("pyfile_removed", names)

    def test_csv(self):
        info, t = fetch("pyfile_csv")
        self.assertEqual(info.total_records, CSV_TABLE.num_rows)
        self.assertEqual(t.num_rows, CSV_TABLE.num_rows)
        self.assertEqual(t.column_names, CSV_TABLE.column_names)
        # Types are inferred: integers, floats and booleans are recognised, the rest is text.
        self.assertTrue(pa.types.is_integer(t.schema.field("id").type))
        self.assertTrue(pa.types.is_floating(t.schema.field("price").type))
        self.assertTrue(pa.types.is_boolean(t.schema.field("ok").type))
        self.assertTrue(pa.types.is_string(t.schema.field("label").type) or pa.types.is_large_string(t.schema.field("label").type))
        self.assertTrue(pa.types.is_integer(t.schema.field("big").type))
        self.assertEqual(t.column("id").to_pylist(), CSV_TABLE.column("id").to_pylist())
        self.assertEqual(t.column("big").to_pylist(), CSV_TABLE.column("big").to_pylist())
        for got, want in zip(t.column("price").to_pylist(), CSV_TABLE.column("price").to_pylist()):
            if want is None:
                self.assertIsNone(got)
            else:
                self.assertAlmostEqual(got, want)
        self.assertEqual(t.column("ok").to_pylist(), CSV_TABLE.column("ok").to_pylist())
        self.assertEqual(t.column("label").to_pylist(), CSV_TABLE.column("label").to_pylist())


class TestExchange(unittest.TestCase):
    def test_echo_table(self):
        schema = pa.schema([("id", pa.int64()), ("s", pa.string()), ("l", pa.list_(pa.int32()))])
        batches = [
            pa.record_batch([
                pa.array(range(k * 100, k * 100 + 100 + k), pa.int64()),
                pa.array([None if i % 5 == 0 else f"v{i}" for i in range(100 + k)]),
                pa.array([[i, i + 1] for i in range(100 + k)], pa.list_(pa.int32())),
            ], schema=schema)
            for k in range(5)
        ]
        writer, reader = client().do_exchange(flight.FlightDescriptor.for_command(b"echo"))
        try:
            writer.begin(schema)
            received = []
            for b in batches:
                writer.write_batch(b)
                received.append(reader.read_chunk().data)
            writer.done_writing()
            rest = reader.read_all()
        finally:
            writer.close()
        self.assertEqual(rest.num_rows, 0)
        self.assertEqual(reader.schema, schema)
        self.assertEqual(len(received), len(batches))
        for got, want in zip(received, batches):
            self.assertTrue(got.equals(want))

    def test_echo_whole_table(self):
        table = pa.table({"x": pa.array(range(3000), pa.int64()), "y": [str(i) for i in range(3000)]})
        writer, reader = client().do_exchange(flight.FlightDescriptor.for_command(b"echo"))
        try:
            writer.begin(table.schema)
            writer.write_table(table, max_chunksize=700)
            writer.done_writing()
            echoed = reader.read_all()
        finally:
            writer.close()
        self.assertEqual([b.num_rows for b in echoed.to_batches()], [700, 700, 700, 700, 200])
        assert_tables_equal(self, echoed, table)

    def test_echo_app_metadata(self):
        writer, reader = client().do_exchange(flight.FlightDescriptor.for_command(b"echo"))
        try:
            # Metadata alone, before any schema.
            writer.write_metadata(b"first")
            chunk = reader.read_chunk()
            self.assertIsNone(chunk.data)
            self.assertEqual(chunk.app_metadata.to_pybytes(), b"first")
            schema = pa.schema([("n", pa.int64())])
            writer.begin(schema)
            batch = pa.record_batch([pa.array([1, 2, 3], pa.int64())], schema=schema)
            writer.write_with_metadata(batch, b"with data \x00\x01")
            chunk = reader.read_chunk()
            self.assertTrue(chunk.data.equals(batch))
            self.assertEqual(chunk.app_metadata.to_pybytes(), b"with data \x00\x01")
            writer.write_metadata(b"after schema")
            chunk = reader.read_chunk()
            self.assertIsNone(chunk.data)
            self.assertEqual(chunk.app_metadata.to_pybytes(), b"after schema")
            writer.done_writing()
            with self.assertRaises(StopIteration):
                reader.read_chunk()
        finally:
            writer.close()

    def test_unknown_command_is_not_implemented(self):
        with self.assertRaises(pa.ArrowNotImplementedError) as ctx:
            writer, reader = client().do_exchange(flight.FlightDescriptor.for_command(b"no-such-command"))
            try:
                writer.begin(pa.schema([("a", pa.int64())]))
                writer.write_table(pa.table({"a": [1]}))
                writer.done_writing()
                reader.read_all()
            finally:
                writer.close()
        self.assertIn("no-such-command", str(ctx.exception))
        self.assertIsInstance(ctx.exception, NotImplementedError)


class TestActions(unittest.TestCase):
    def action(self, type_, body=b""):
        return [r.body.to_pybytes() for r in client().do_action(flight.Action(type_, body))]

    def test_list_actions(self):
        actions = {a.type: a.description for a in client().list_actions()}
        for name in ("CancelFlightInfo", "RenewFlightEndpoint", "ping", "describe", "drop"):
            self.assertIn(name, actions)
            self.assertTrue(actions[name].strip(), f"{name} has no description")

    def test_ping(self):
        [body] = self.action("ping")
        answer = json.loads(body)
        self.assertIs(answer["ok"], True)
        self.assertIn("time", answer)

    def test_describe(self):
        [body] = self.action("describe", json.dumps({"dataset": "db1"}).encode())
        answer = json.loads(body)
        self.assertEqual(answer["dataset"], "db1")
        self.assertEqual(answer["rows"], 3)
        self.assertEqual([f["name"] for f in answer["schema"]], ["id", "name"])
        [body] = self.action("describe", b"numbers")
        self.assertEqual(json.loads(body)["rows"], NUMBERS_ROWS)
        with self.assertRaises(pa.ArrowKeyError):
            self.action("describe", b"no_such_dataset")

    def test_cancel_flight_info(self):
        info = client().get_flight_info(path("db1"))
        [body] = self.action("CancelFlightInfo", proto_field(1, info.serialize()))
        # CancelFlightInfoResult { CancelStatus status = 1 }; NOT_CANCELLABLE = 3
        self.assertEqual(proto_fields(body), [(1, 0, 3)])
        with self.assertRaises(pa.ArrowInvalid):
            self.action("CancelFlightInfo", b"")

    def test_renew_flight_endpoint(self):
        endpoint = client().get_flight_info(path("db2")).endpoints[0]
        time.sleep(0.05)
        [body] = self.action("RenewFlightEndpoint", proto_field(1, endpoint.serialize()))
        renewed = flight.FlightEndpoint.deserialize(body)
        self.assertIsNotNone(renewed.expiration_time)
        self.assertGreater(to_ns(renewed.expiration_time), to_ns(endpoint.expiration_time))
        self.assertEqual(renewed.locations, endpoint.locations)
        t = client().do_get(renewed.ticket).read_all()
        self.assertEqual(t.to_pydict(), {"id": [4, 5, 6], "name": ["x", "y", "z"]})

    def test_drop(self):
        put(path("py_to_drop"), pa.table({"a": [1, 2]}))
        self.assertEqual(fetch("py_to_drop")[1].num_rows, 2)
        [body] = self.action("drop", json.dumps({"dataset": "py_to_drop"}).encode())
        self.assertEqual(json.loads(body), {"dropped": "py_to_drop"})
        with self.assertRaises(pa.ArrowKeyError):
            client().get_flight_info(path("py_to_drop"))
        names = [f.descriptor.path[0].decode() for f in client().list_flights(b"py_to_drop")]
        self.assertEqual(names, [])
        # The name is free again.
        put(path("py_to_drop"), pa.table({"b": ["x"]}))
        self.assertEqual(fetch("py_to_drop")[1].to_pydict(), {"b": ["x"]})

    def test_drop_of_a_file_dataset_is_refused(self):
        # FAILED_PRECONDITION: pyarrow raises ArrowInvalid for it.
        with self.assertRaises(pa.ArrowInvalid) as ctx:
            self.action("drop", b"pyfile_stream")
        self.assertIn("remove the file", str(ctx.exception))
        self.assertTrue(os.path.exists(os.path.join(DATA_DIR, "pyfile_stream.arrows")))
        self.assertEqual(fetch("pyfile_stream")[0].total_records, FILE_TABLE.num_rows)
        with self.assertRaises(pa.ArrowKeyError):
            self.action("drop", b"no_such_dataset")

    def test_unknown_action_is_not_implemented(self):
        with self.assertRaises(pa.ArrowNotImplementedError) as ctx:
            self.action("no-such-action")
        self.assertIsInstance(ctx.exception, NotImplementedError)
        self.assertIn("no-such-action", str(ctx.exception))


class TestConcurrency(unittest.TestCase):
    """Several pyarrow clients at once: every stream must carry its own bytes."""

    def run_threads(self, target, count):
        errors = []

        def wrapped(k):
            try:
                target(k)
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(f"thread {k}: {type(e).__name__}: {e}")

        threads = [threading.Thread(target=wrapped, args=(k,)) for k in range(count)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(120)
        self.assertEqual(errors, [])

    def test_parallel_reads(self):
        n = NUMBERS_ROWS
        expected_sum = n * (n - 1) // 2

        def read(k):
            c = flight.FlightClient(URI)
            try:
                t = c.do_get(flight.Ticket(b"numbers")).read_all()
                assert t.num_rows == n, t.num_rows
                assert pc.sum(t.column("id")).as_py() == expected_sum
                assert t.column("name")[n - 1 - k].as_py() == f"n{n - 1 - k:09d}"
            finally:
                c.close()

        self.run_threads(read, 8)

    def test_parallel_uploads_and_reads(self):
        rows = 100_000

        def batches(k):
            return [
                pa.record_batch([pa.Array.from_buffers(pa.int64(), rows, [None, int64_column(rows, start=k * 10**8 + j * rows)])], names=["v"])
                for j in range(8)
            ]

        def upload(k):
            c = flight.FlightClient(URI)
            try:
                expected = pa.Table.from_batches(batches(k))
                writer, results = c.do_put(cmd(f"py_parallel_{k}", "replace"), expected.schema)
                for b in expected.to_batches():
                    writer.write_batch(b)
                writer.done_writing()
                results.read()
                writer.close()
                got = c.do_get(flight.Ticket(f"py_parallel_{k}".encode())).read_all()
                assert got.equals(expected), f"py_parallel_{k} came back different"
            finally:
                c.close()

        self.run_threads(upload, 6)


class TestErrors(unittest.TestCase):
    def test_unknown_dataset_is_not_found(self):
        with self.assertRaises(pa.ArrowKeyError) as ctx:
            client().get_flight_info(path("no_such_dataset"))
        self.assertIsInstance(ctx.exception, KeyError)
        self.assertIn("no_such_dataset", str(ctx.exception))
        self.assertIn("not found", str(ctx.exception))
        with self.assertRaises(pa.ArrowKeyError):
            client().get_schema(path("no_such_dataset"))
        with self.assertRaises(pa.ArrowKeyError):
            client().do_get(flight.Ticket(b"no_such_dataset")).read_all()

    def test_malformed_ticket_is_invalid_argument(self):
        for ticket in (b"\xff\xfe\x00garbage", b"fgt1:{not json", b'fgt1:{"d":5}', b"x" * 5000):
            with self.subTest(ticket=ticket[:20]):
                with self.assertRaises(pa.ArrowInvalid) as ctx:
                    client().do_get(flight.Ticket(ticket)).read_all()
                self.assertIsInstance(ctx.exception, ValueError)
        # Tickets are signed: an unsigned one in the old shape, or a real one altered, is refused.
        real = client().get_flight_info(path("db1")).endpoints[0].ticket.ticket
        for forged in (b'fgt1:{"d":"db1","e":99999999999999}', real[:-2] + (b"AA" if real[-2:] != b"AA" else b"BB")):
            with self.subTest(forged=forged[:20]):
                with self.assertRaises(pa.ArrowInvalid) as ctx:
                    client().do_get(flight.Ticket(forged)).read_all()
                self.assertIn("not one this server issued", str(ctx.exception))

    def test_path_with_two_elements_is_invalid_argument(self):
        with self.assertRaises(pa.ArrowInvalid) as ctx:
            client().get_flight_info(flight.FlightDescriptor.for_path("db1", "extra"))
        self.assertIn("exactly one element", str(ctx.exception))
        with self.assertRaises(pa.ArrowInvalid):
            client().get_flight_info(flight.FlightDescriptor.for_path("../etc"))

    def test_cmd_not_json_is_not_implemented(self):
        with self.assertRaises(pa.ArrowNotImplementedError) as ctx:
            client().get_flight_info(flight.FlightDescriptor.for_command(b"SELECT * FROM db1"))
        self.assertIn("SELECT", str(ctx.exception))
        with self.assertRaises(pa.ArrowInvalid):
            client().get_flight_info(flight.FlightDescriptor.for_command(b'{"dataset": "db1", "mode": "upsert"}'))


if __name__ == "__main__":
    unittest.main()
