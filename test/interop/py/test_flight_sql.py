"""
Flight SQL as the JDBC and ADBC drivers use it, with a client made from FlightSql.proto over
pyarrow.flight (flight_sql_client.py), against `flightgate serve --demo`.

The node wrapper (test/interop/flight-sql.test.ts) starts the servers and sets:
  FG_GEN           directory of the Python modules generated from test/interop/proto
  FG_URI, FG_HTTP  the main server (demo data, an external IdP configured) and its token service
  FG_MTLS_URI      a server asking for client certificates; FG_CA, FG_CLIENT_CERT, FG_CLIENT_KEY
  FG_LIMITS_URI    a server with small SQL limits (1 query per principal, 2 s per query, 64 MB)
  FG_CLIENT_ID, FG_CLIENT_SECRET   an OAuth client reading db1
  FG_API_KEY       an API key reading db2
  FG_IDP_TOKEN     an external IdP access token of a user in user_role (reads db1)
  FG_NOGRANT_USER, FG_NOGRANT_PASSWORD   a user with no grants at all
"""
import base64
import json
import os
import re
import threading
import time
import unittest
import urllib.request
from decimal import Decimal

import duckdb
import pyarrow as pa
import pyarrow.flight as flight

import flight_sql_client as fsc

fsc.load(os.environ["FG_GEN"])
pb = fsc.pb

URI = os.environ["FG_URI"]
LIMITS_URI = os.environ["FG_LIMITS_URI"]


def basic(uri, user, password, **kw):
    c = flight.FlightClient(uri, **kw)
    return fsc.FlightSqlClient(c, [c.authenticate_basic_token(user, password)])


def bearer(uri, token, **kw):
    return fsc.FlightSqlClient(flight.FlightClient(uri, **kw), [(b"authorization", f"Bearer {token}".encode())])


def client_credentials_token():
    body = f"grant_type=client_credentials&scope=flight".encode()
    auth = base64.b64encode(f"{os.environ['FG_CLIENT_ID']}:{os.environ['FG_CLIENT_SECRET']}".encode()).decode()
    req = urllib.request.Request(os.environ["FG_HTTP"] + "/oauth2/token", data=body, headers={"authorization": f"Basic {auth}", "content-type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())["access_token"]


def admin():
    return basic(URI, "admin", "admin123")


def table_names(c):
    return sorted(c.tables().column("table_name").to_pylist())


def plain_doget(c, name):
    """A dataset as plain Flight serves it, for DuckDB's side of the comparisons."""
    info = c.client.get_flight_info(flight.FlightDescriptor.for_path(name), c.options)
    return c.client.do_get(info.endpoints[0].ticket, c.options).read_all()


def message_of(err):
    return str(err).split("Detail:")[0]


class ConnectWalk(unittest.TestCase):
    """What the drivers do at connect and first query, in every way of signing in."""

    def walk(self, c, expected_tables):
        info = {r["info_name"]: r["value"] for r in c.sql_info().to_pylist()}
        self.assertEqual(info[0], "flightgate")
        self.assertRegex(info[1], r"DuckDB v1\.")
        self.assertTrue(info[3])  # read only
        self.assertEqual(info[504], '"')
        self.assertFalse(info[563])  # no transactions
        self.assertEqual(c.catalogs().to_pydict(), {"catalog_name": ["temp"]})
        self.assertEqual(c.db_schemas().to_pydict(), {"catalog_name": ["temp"], "db_schema_name": ["main"]})
        self.assertEqual(c.table_types().to_pydict(), {"table_type": ["TABLE"]})
        self.assertEqual(c.set_session_options(catalog="temp"), {})
        self.assertEqual(c.get_session_options()["catalog"], "temp")
        tables = c.tables(include_schema=True)
        self.assertEqual(sorted(tables.column("table_name").to_pylist()), expected_tables)
        for row in tables.to_pylist():
            schema = pa.ipc.read_schema(pa.py_buffer(row["table_schema"]))
            first = c.execute(f'SELECT * FROM temp.main."{row["table_name"]}" LIMIT 3')
            self.assertEqual(first.schema.names, schema.names)
        self.assertEqual(sorted(c.execute("SELECT table_name FROM information_schema.tables").column(0).to_pylist()), expected_tables)

    def test_basic_handshake_and_session_bearer(self):
        self.walk(admin(), ["db1", "db2", "numbers"])
        # The session token from a handshake, carried by a fresh client as a plain bearer.
        header = flight.FlightClient(URI).authenticate_basic_token("user1", "pass1")
        self.walk(fsc.FlightSqlClient(flight.FlightClient(URI), [header]), ["db1"])

    def test_jwt_from_client_credentials(self):
        self.walk(bearer(URI, client_credentials_token()), ["db1"])

    def test_external_idp_token(self):
        self.walk(bearer(URI, os.environ["FG_IDP_TOKEN"]), ["db1"])

    def test_api_key(self):
        self.walk(bearer(URI, os.environ["FG_API_KEY"]), ["db2"])

    def test_mtls(self):
        ca = open(os.environ["FG_CA"], "rb").read()
        c = fsc.FlightSqlClient(flight.FlightClient(os.environ["FG_MTLS_URI"], tls_root_certs=ca,
                                                    cert_chain=open(os.environ["FG_CLIENT_CERT"], "rb").read(),
                                                    private_key=open(os.environ["FG_CLIENT_KEY"], "rb").read(),
                                                    override_hostname="localhost"))
        self.walk(c, ["db1"])

    def test_no_credentials_refused(self):
        with self.assertRaises(flight.FlightUnauthenticatedError):
            fsc.FlightSqlClient(flight.FlightClient(URI)).execute("SELECT 1")


class Queries(unittest.TestCase):
    """Results value by value against DuckDB's own answers over the same data."""

    @classmethod
    def setUpClass(cls):
        cls.c = admin()
        n = 500
        typed = pa.table({
            "id": pa.array(range(n), pa.int64()),
            "i8": pa.array([i % 100 - 50 for i in range(n)], pa.int8()),
            "u32": pa.array([i * 7 for i in range(n)], pa.uint32()),
            "f32": pa.array([i / 4 for i in range(n)], pa.float32()),
            "price": pa.array([Decimal(i) / 100 for i in range(n)], pa.decimal128(12, 2)),
            "flag": pa.array([None if i % 11 == 0 else i % 3 == 0 for i in range(n)], pa.bool_()),
            "name": pa.array([None if i % 13 == 0 else f"item-{i % 37}" for i in range(n)], pa.string()),
            "blob": pa.array([bytes([i % 256, 1, 2]) for i in range(n)], pa.binary()),
            "day": pa.array([10957 + i for i in range(n)], pa.date32()),
            "ts": pa.array([1_600_000_000_000_000 + i * 3_600_000_000 for i in range(n)], pa.timestamp("us", tz="UTC")),
            "tags": pa.array([[f"t{i % 3}", f"t{i % 5}"] if i % 7 else None for i in range(n)], pa.list_(pa.string())),
            "point": pa.array([{"x": i, "y": None if i % 4 == 0 else i * 2.5} for i in range(n)], pa.struct([("x", pa.int32()), ("y", pa.float64())])),
            "label": pa.array([None if i % 9 == 4 else ["red", "green", "blue"][i % 3] for i in range(n)]).dictionary_encode(),
        })
        cls.typed = typed
        # Uploaded with Flight SQL's bulk ingest, as adbc_ingest does.
        try:
            cls.c.client.do_action(flight.Action("drop", b"typed"), cls.c.options)
        except Exception:
            pass
        cls.assert_rows = cls.c.ingest("typed", typed)
        cls.duck = duckdb.connect()
        for name in ("db1", "db2", "numbers"):
            cls.duck.register(name, plain_doget(cls.c, name))
        cls.duck.register("typed", typed)

    def same(self, sql):
        ours = self.c.execute(sql)
        theirs = self.duck.execute(sql).fetch_arrow_table()
        self.assertEqual(ours.schema.names, theirs.schema.names, sql)
        self.assertEqual(ours.to_pylist(), theirs.to_pylist(), sql)
        return ours

    def test_ingest_counted(self):
        self.assertEqual(self.assert_rows, 500)

    def test_query_set(self):
        queries = [
            "SELECT name, count(*) FROM numbers GROUP BY name ORDER BY 2 DESC, 1 LIMIT 5",
            "SELECT * FROM typed ORDER BY id",
            "SELECT count(*), sum(id), avg(f32), min(day), max(ts), sum(price) FROM typed",
            "SELECT name, count(*) AS n, sum(price) AS total FROM typed GROUP BY name ORDER BY name NULLS FIRST",
            "SELECT t.id, t.name, d.name AS other FROM typed t JOIN db1 d ON d.id = t.id % 3 ORDER BY t.id, other",
            "SELECT t.id, d.id AS did FROM typed t LEFT JOIN db2 d ON d.id = t.id ORDER BY t.id LIMIT 20",
            "SELECT id, sum(id) OVER (PARTITION BY id % 5 ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS s, rank() OVER (ORDER BY price DESC) AS r FROM typed ORDER BY id",
            "WITH big AS (SELECT * FROM typed WHERE price > 2) SELECT count(*), min(id) FROM big",
            "SELECT id FROM typed WHERE name IN (SELECT name FROM typed WHERE id < 20) AND EXISTS (SELECT 1 FROM db1) ORDER BY id",
            "SELECT id, flag, name IS NULL AS no_name, coalesce(name, 'none') AS n FROM typed WHERE flag IS NULL OR name IS NULL ORDER BY id",
            "SELECT id, tags, point, point.y, list_count(tags) FROM typed ORDER BY id LIMIT 50",
            "SELECT id, price * 3 AS p3, CAST(price AS DECIMAL(18, 4)) AS p4 FROM typed ORDER BY id LIMIT 10",
            "SELECT id, ts, ts + INTERVAL 1 DAY AS later, date_trunc('month', ts) AS m, day FROM typed ORDER BY id LIMIT 30",
            "SELECT * FROM typed WHERE id < 0",
            "SELECT tag, count(*) FROM (SELECT unnest(tags) AS tag FROM typed) GROUP BY tag ORDER BY tag",
            "SELECT blob, i8, u32 FROM typed ORDER BY id LIMIT 10",
            "SELECT label, count(*) AS n, min(id) AS first FROM typed GROUP BY label ORDER BY label NULLS FIRST",
            "SELECT id, label FROM typed WHERE label = 'green' OR label IS NULL ORDER BY id LIMIT 40",
        ]
        for sql in queries:
            with self.subTest(sql=sql):
                self.same(sql)

    def test_done_criterion_query(self):
        # Names in numbers are unique: every count is 1 and which five come first is the engine's choice.
        sql = "SELECT name, count(*) FROM numbers GROUP BY name ORDER BY 2 DESC LIMIT 5"
        ours = self.c.execute(sql)
        self.assertEqual(ours.schema.names, ["name", "count_star()"])
        self.assertEqual(ours.column(1).to_pylist(), [1] * 5)
        names = set(plain_doget(self.c, "numbers").column("name").to_pylist())
        self.assertTrue(set(ours.column(0).to_pylist()) <= names)
        self.same("SELECT name, count(*) FROM numbers GROUP BY name ORDER BY 2 DESC, 1 LIMIT 5")

    def test_prepared_statement_with_parameters(self):
        handle, dataset, params = self.c.prepare("SELECT id, name FROM typed WHERE id BETWEEN ? AND ? AND name LIKE ? ORDER BY id")
        self.assertEqual(dataset.names, ["id", "name"])
        self.assertEqual(len(params), 3)
        handle = self.c.bind(handle, pa.record_batch([pa.array([10], pa.int64()), pa.array([90], pa.int64()), pa.array(["item-1%"])], names=["a", "b", "c"]))
        ours = self.c.execute_prepared(handle)
        theirs = self.duck.execute("SELECT id, name FROM typed WHERE id BETWEEN 10 AND 90 AND name LIKE 'item-1%' ORDER BY id").fetch_arrow_table()
        self.assertEqual(ours.to_pylist(), theirs.to_pylist())
        # Another principal holding the handle gets nothing from it.
        other = basic(URI, "user1", "pass1")
        with self.assertRaises(flight.FlightUnauthorizedError):
            other.execute_prepared(handle)
        with self.assertRaises(flight.FlightUnauthorizedError):
            other.close_prepared(handle)
        self.c.close_prepared(handle)

    def test_statement_ticket_bound_to_principal(self):
        info = self.c.info(pb.CommandStatementQuery(query="SELECT count(*) FROM db2"))
        other = basic(URI, "user1", "pass1")
        with self.assertRaises(flight.FlightUnauthorizedError):
            other.fetch(info)

    def test_updates_refused(self):
        with self.assertRaisesRegex(pa.ArrowNotImplementedError, "read-only"):
            self.c.execute_update("DELETE FROM db1")

    def test_ingest_needs_write(self):
        u1 = basic(URI, "user1", "pass1")
        with self.assertRaises(flight.FlightUnauthorizedError):
            u1.ingest("db1", pa.table({"id": [1]}), if_not_exist="FAIL", if_exists="APPEND")

    def test_ingest_modes(self):
        t = pa.table({"k": pa.array([1, 2, 3], pa.int64())})
        try:
            self.c.client.do_action(flight.Action("drop", b"ingested"), self.c.options)
        except Exception:
            pass
        self.assertEqual(self.c.ingest("ingested", t), 3)
        with self.assertRaisesRegex(pa.ArrowInvalid, "already exists"):
            self.c.ingest("ingested", t)
        self.assertEqual(self.c.ingest("ingested", t, if_not_exist="FAIL", if_exists="APPEND"), 3)
        self.assertEqual(self.c.execute("SELECT count(*) AS n FROM ingested").to_pydict(), {"n": [6]})
        self.assertEqual(self.c.ingest("ingested", t, if_exists="REPLACE"), 3)
        self.assertEqual(self.c.execute("SELECT sum(k) AS s FROM ingested").to_pydict(), {"s": [6]})

    def test_metadata_filters(self):
        c = self.c
        self.assertEqual(c.tables(table_pattern="db_").column("table_name").to_pylist(), ["db1", "db2"])
        self.assertEqual(c.tables(table_pattern="%umb%").column("table_name").to_pylist(), ["numbers"])
        self.assertEqual(c.tables(types=["VIEW"]).num_rows, 0)
        self.assertEqual(c.tables(catalog="other").num_rows, 0)
        self.assertEqual(c.db_schemas(pattern="x%").num_rows, 0)
        self.assertEqual(c.primary_keys("db1").num_rows, 0)
        self.assertEqual(c.exported_keys("db1").schema.names[0], "pk_catalog_name")
        self.assertEqual(c.imported_keys("db1").num_rows, 0)
        self.assertEqual(c.cross_reference("db1", "db2").num_rows, 0)
        types = c.xdbc_type_info()
        self.assertIn("VARCHAR", types.column("type_name").to_pylist())
        self.assertEqual(c.xdbc_type_info(data_type=12).column("type_name").to_pylist(), ["VARCHAR"])
        self.assertEqual(c.set_session_options(catalog="elsewhere"), {"catalog": 2})
        self.assertEqual(c.set_session_options(colour="red"), {"colour": 1})


ESCAPES = [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM glob('/*')",
    "SELECT * FROM read_parquet('/tmp/x.parquet')",
    "COPY (SELECT 1) TO '/tmp/flightgate-escape.csv'",
    "ATTACH '/tmp/flightgate-escape.db' AS x",
    "INSTALL httpfs",
    "LOAD httpfs",
    "EXPORT DATABASE '/tmp/flightgate-escape'",
    "SET memory_limit = '100GB'",
    "RESET memory_limit",
    "PRAGMA version",
    "SELECT getenv('HOME')",
    "SELECT * FROM duckdb_settings()",
    "SELECT current_setting('memory_limit')",
    "SELECT * FROM query('SELECT 1')",
    "SELECT * FROM flightgate_scan('s1')",
    "SELECT * FROM duckdb_secrets()",
    "CREATE TABLE t AS SELECT 1",
    "CREATE TEMP VIEW db2 AS SELECT 1",
    "DROP VIEW db1",
    "SELECT 1; SELECT 2",
    "CALL pragma_version()",
    "SELECT * FROM db2",
    "SELECT * FROM temp.main.db2",
    "SELECT * FROM memory.main.db2",
]


class Escapes(unittest.TestCase):
    """Nothing but the caller's own tables is reachable, however the SQL is written."""

    def check(self, c, visible):
        for sql in ESCAPES:
            with self.subTest(sql=sql):
                with self.assertRaises((flight.FlightError, pa.ArrowException)):
                    c.execute(sql).to_pylist()
        for catalog_query in ("SELECT table_name FROM information_schema.tables", "SELECT table_name FROM duckdb_tables() UNION ALL SELECT view_name FROM duckdb_views() WHERE NOT internal"):
            self.assertEqual(sorted(c.execute(catalog_query).column(0).to_pylist()), visible, catalog_query)
        self.assertEqual(table_names(c), visible)

    def test_user_without_grants(self):
        self.check(basic(URI, os.environ["FG_NOGRANT_USER"], os.environ["FG_NOGRANT_PASSWORD"]), [])

    def test_reader_of_one_dataset(self):
        self.check(basic(URI, "user1", "pass1"), ["db1"])

    def test_forbidden_and_missing_look_the_same(self):
        u1 = basic(URI, "user1", "pass1")
        messages = []
        # A forbidden table and a missing one of the same spelling shape: the same answer.
        for name in ("db2", "db9"):
            try:
                u1.execute(f"SELECT * FROM db1 JOIN {name} USING (id)")
                self.fail("the join ran")
            except pa.ArrowInvalid as e:
                messages.append(message_of(e).replace(name, "NAME"))
        self.assertEqual(messages[0], messages[1])
        self.assertNotIn("db2", messages[0])


class Limits(unittest.TestCase):
    """Cancellation, deadlines, memory and concurrency, with real queries running."""

    HEAVY = "SELECT count(*) FROM numbers a, numbers b WHERE a.value * b.value < -1"

    def test_cancel_running_query(self):
        c = admin()
        info = c.info(pb.CommandStatementQuery(query=self.HEAVY))
        outcome = {}

        def run():
            try:
                c.fetch(info)
                outcome["error"] = None
            except Exception as e:  # noqa: BLE001
                outcome["error"] = e

        t = threading.Thread(target=run)
        t.start()
        time.sleep(0.5)
        self.assertEqual(c.cancel(info), 1)  # CANCEL_STATUS_CANCELLED
        t.join(30)
        self.assertFalse(t.is_alive(), "the cancelled query kept running")
        self.assertIsInstance(outcome["error"], flight.FlightCancelledError)
        with self.assertRaises(flight.FlightCancelledError):
            c.fetch(info)

    def test_client_deadline(self):
        c = admin()
        info = c.info(pb.CommandStatementQuery(query=self.HEAVY))
        started = time.time()
        with self.assertRaises(flight.FlightTimedOutError):
            c.client.do_get(info.endpoints[0].ticket, flight.FlightCallOptions(headers=c.headers, timeout=0.5)).read_all()
        self.assertLess(time.time() - started, 10)

    def test_server_time_limit(self):
        c = basic(LIMITS_URI, "admin", "admin123")
        with self.assertRaisesRegex(flight.FlightTimedOutError, "sql.maxQuerySeconds"):
            c.execute(self.HEAVY)

    def test_memory_limit(self):
        c = basic(LIMITS_URI, "admin", "admin123")
        with self.assertRaisesRegex((flight.FlightError, pa.ArrowException), "resource exhausted.*sql.memoryLimit"):
            c.execute("SELECT list(repeat(name, 1000)) FROM numbers")

    def test_concurrent_queries_per_principal(self):
        c = basic(LIMITS_URI, "admin", "admin123")
        info = c.info(pb.CommandStatementQuery(query=self.HEAVY))
        first = {}
        t = threading.Thread(target=lambda: first.setdefault("e", self._swallow(lambda: c.fetch(info))))
        t.start()
        time.sleep(0.4)
        try:
            with self.assertRaisesRegex((flight.FlightError, pa.ArrowException), "resource exhausted.*sql.maxConcurrentQueriesPerPrincipal allows 1"):
                c.execute("SELECT 1")
        finally:
            t.join(30)
        self.assertIsInstance(first["e"], flight.FlightTimedOutError)
        # Once it ended, the slot is free again.
        self.assertEqual(c.execute("SELECT 42 AS x").to_pydict(), {"x": [42]})

    @staticmethod
    def _swallow(f):
        try:
            f()
        except Exception as e:  # noqa: BLE001
            return e
        return None


if __name__ == "__main__":
    unittest.main(verbosity=2)
