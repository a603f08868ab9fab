"""
Row filters and column masks as pyarrow.flight sees them, on every path. Started by
test/interop/policies.test.ts, which sets:
  FG_URI                      the server (demo users, the dataset `customers`, an external IdP)
  FG_ACME_TOKEN, FG_GLOBEX_TOKEN, FG_TENANTLESS_TOKEN   IdP access tokens of role tenant-reader
                              (grant: rows "tenant = claim('tenant')", ssn hidden, email hashed)
  FG_CLI, FG_CLI_ARGS         how to run the flightgate CLI on the server's registry
  FG_ROWS                     rows of `customers` (ids 0.., tenant acme/globex/initech by id % 3)
  FG_OUT                      where to write what was observed, for the node side to compare
The local user sam (password sam-password-123) has role eu-support from the config file: rows
"region = 'EU'" (odd ids), email last4, ssn hidden. `nobody` has no grants; admin reads all.
"""
import json
import os
import re
import shlex
import subprocess
import threading
import time
import unittest

import pyarrow as pa
import pyarrow.flight as flight

import flight_sql_client as fsc

fsc.load(os.environ["FG_GEN"])

URI = os.environ["FG_URI"]
N = int(os.environ["FG_ROWS"])
TENANTS = ["acme", "globex", "initech"]
HEX32 = re.compile(r"^[0-9a-f]{32}$")
observed = {}


def bearer(token):
    return flight.FlightClient(URI), flight.FlightCallOptions(headers=[(b"authorization", f"Bearer {token}".encode())])


def basic(user, password):
    c = flight.FlightClient(URI)
    return c, flight.FlightCallOptions(headers=[c.authenticate_basic_token(user, password)])


def cli(*args):
    cmd = shlex.split(os.environ["FG_CLI"]) + list(args) + json.loads(os.environ["FG_CLI_ARGS"])
    r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "FLIGHTGATE_DATABASE_URL": "", "FLIGHTGATE_REDIS_URL": ""})
    assert r.returncode == 0, r.stderr
    return r.stdout


def read_path(client, options, name="customers"):
    info = client.get_flight_info(flight.FlightDescriptor.for_path(name), options)
    return info, client.do_get(info.endpoints[0].ticket, options).read_all()


ACME = bearer(os.environ["FG_ACME_TOKEN"])
GLOBEX = bearer(os.environ["FG_GLOBEX_TOKEN"])
TENANTLESS = bearer(os.environ["FG_TENANTLESS_TOKEN"])


def sql_for(token=None, user=None, password=None):
    c = flight.FlightClient(URI)
    headers = [c.authenticate_basic_token(user, password)] if user else [(b"authorization", f"Bearer {token}".encode())]
    return fsc.FlightSqlClient(c, headers)


class EveryPath(unittest.TestCase):
    def test_do_get_get_flight_info_get_schema_list_flights_describe(self):
        client, options = ACME
        info, table = read_path(client, options)
        self.assertEqual(info.total_records, -1, "a filtered count is not known in advance")
        self.assertEqual(info.schema.names, ["id", "tenant", "region", "email", "amount"])
        self.assertEqual(table.schema.names, info.schema.names)
        self.assertEqual(table.num_rows, N // 3)
        self.assertEqual(set(table.column("tenant").to_pylist()), {"acme"})
        emails = table.column("email").to_pylist()
        self.assertTrue(all(HEX32.match(e) for e in emails))
        self.assertNotIn("person0@example.com", emails)
        observed["acmeEmails"] = {str(i): e for i, e in zip(table.column("id").to_pylist(), emails)}

        schema = client.get_schema(flight.FlightDescriptor.for_path("customers"), options).schema
        self.assertEqual(schema.names, info.schema.names)
        listed = [f for f in client.list_flights(options=options) if f.descriptor.path == [b"customers"]]
        self.assertEqual(len(listed), 1)
        self.assertEqual(listed[0].schema.names, info.schema.names)
        self.assertEqual(listed[0].total_records, -1)
        described = json.loads(list(client.do_action(flight.Action("describe", b"customers"), options))[0].body.to_pybytes())
        self.assertEqual([f["name"] for f in described["schema"]], info.schema.names)
        self.assertEqual(described["rows"], -1)

    def test_each_tenant_sees_its_own_rows_and_a_token_without_the_claim_none(self):
        for (client, options), tenant in ((GLOBEX, "globex"), (ACME, "acme")):
            _, table = read_path(client, options)
            self.assertEqual(set(table.column("tenant").to_pylist()), {tenant})
        _, table = read_path(*TENANTLESS)
        self.assertEqual(table.num_rows, 0)
        self.assertEqual(table.schema.names, ["id", "tenant", "region", "email", "amount"])

    def test_a_ticket_is_bound_to_its_principal(self):
        info, _ = read_path(*ACME)
        client, options = GLOBEX
        with self.assertRaises(flight.FlightUnauthorizedError):
            client.do_get(info.endpoints[0].ticket, options).read_all()

    def test_a_config_file_grant_and_an_admin(self):
        client, options = basic("sam", "sam-password-123")
        info, table = read_path(client, options)
        self.assertEqual(table.schema.names, ["id", "tenant", "region", "email", "amount"])
        self.assertEqual(set(table.column("region").to_pylist()), {"EU"})
        self.assertEqual(table.num_rows, N // 2)
        for i, e in zip(table.column("id").to_pylist(), table.column("email").to_pylist()):
            plain = f"person{i}@example.com"
            self.assertEqual(e, "*" * (len(plain) - 4) + plain[-4:])
        client, options = basic("admin", "admin123")
        info, table = read_path(client, options)
        self.assertEqual(info.total_records, N)
        self.assertIn("ssn", table.schema.names)
        self.assertEqual(table.num_rows, N)

    def test_no_grant_no_name(self):
        client, options = basic("nobody", "nobody-password-123")
        self.assertEqual([f for f in client.list_flights(options=options) if f.descriptor.path == [b"customers"]], [])
        for call in (
            lambda: client.get_flight_info(flight.FlightDescriptor.for_path("customers"), options),
            lambda: client.get_schema(flight.FlightDescriptor.for_path("customers"), options),
            lambda: list(client.do_action(flight.Action("describe", b"customers"), options)),
        ):
            # pyarrow raises GetSchema's PERMISSION_DENIED as a plain OSError; the message is the same.
            with self.assertRaisesRegex((flight.FlightUnauthorizedError, OSError), 'may not read dataset "customers"'):
                call()


class FlightSql(unittest.TestCase):
    def test_statements_prepared_statements_and_metadata_see_the_view(self):
        s = sql_for(token=os.environ["FG_ACME_TOKEN"])
        t = s.execute("SELECT tenant, count(*) AS n, count(DISTINCT email) AS e FROM customers GROUP BY tenant")
        self.assertEqual(t.to_pylist(), [{"tenant": "acme", "n": N // 3, "e": N // 3}])
        with self.assertRaisesRegex(pa.ArrowInvalid, '"ssn" not found'):
            s.execute("SELECT ssn FROM customers")
        handle, dataset_schema, _ = s.prepare("SELECT id, email FROM customers WHERE id < ? ORDER BY id")
        self.assertEqual(dataset_schema.names, ["id", "email"])
        handle = s.bind(handle, pa.record_batch([pa.array([30], pa.int64())], names=["p"]))
        rows = s.execute_prepared(handle).to_pylist()
        self.assertEqual([r["id"] for r in rows], [i for i in range(30) if i % 3 == 0])
        # The pseudonyms are the ones DoGet gave (EveryPath runs before this class).
        self.assertEqual({str(r["id"]): r["email"] for r in rows}, {k: v for k, v in observed["acmeEmails"].items() if int(k) < 30})
        s.close_prepared(handle)
        tables = s.tables(include_schema=True).to_pylist()
        mine = [r for r in tables if r["table_name"] == "customers"]
        self.assertEqual(len(mine), 1)
        self.assertEqual(pa.ipc.read_schema(pa.py_buffer(mine[0]["table_schema"])).names, ["id", "tenant", "region", "email", "amount"])

    def test_sql_cannot_observe_other_tenants(self):
        s = sql_for(token=os.environ["FG_ACME_TOKEN"])
        for probe in (
            "SELECT count(*) AS n FROM customers WHERE tenant <> 'acme'",
            "SELECT count(*) AS n FROM customers WHERE CASE WHEN tenant = 'globex' THEN error('leaked') ELSE false END",
            "SELECT count(*) AS n FROM customers a JOIN customers b ON a.id + 1 = b.id WHERE b.tenant = 'globex'",
        ):
            self.assertEqual(s.execute(probe).to_pylist(), [{"n": 0}], probe)
        for escape in ("SELECT getvariable('flightgate_mask_key')", "SELECT * FROM flightgate_scan('s1')", "SELECT * FROM read_parquet('customers.arrow')"):
            with self.assertRaises(pa.ArrowInvalid, msg=escape):
                s.execute(escape)
        view = s.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'customers'").to_pylist()[0]["sql"]
        self.assertNotIn("globex", view)


class Changes(unittest.TestCase):
    def test_a_grant_changed_under_issued_tickets_applies_to_them(self):
        client, options = ACME
        info = client.get_flight_info(flight.FlightDescriptor.for_path("customers"), options)
        before = client.do_get(info.endpoints[0].ticket, options).read_all()
        self.assertEqual(before.num_rows, N // 3)
        cli("roles", "grant", "tenant-reader", "--dataset", "customers", "--action", "read", "--rows", "tenant = claim('tenant') AND region = 'EU'", "--hide", "ssn", "--hide", "email")
        try:
            time.sleep(0.5)  # the servers' registry cache (auth.registryCacheMs = 200)
            after = client.do_get(info.endpoints[0].ticket, options).read_all()
            self.assertEqual(after.schema.names, ["id", "tenant", "region", "amount"])
            self.assertEqual(set(after.column("region").to_pylist()), {"EU"})
            self.assertEqual(after.num_rows, len([i for i in range(N) if i % 3 == 0 and i % 2 == 1]))
            cli("roles", "revoke", "tenant-reader", "--dataset", "customers", "--action", "read")
            time.sleep(0.5)
            with self.assertRaises(flight.FlightUnauthorizedError):
                client.do_get(info.endpoints[0].ticket, options).read_all()
        finally:
            cli("roles", "grant", "tenant-reader", "--dataset", "customers", "--action", "read", "--rows", "tenant = claim('tenant')", "--hide", "ssn", "--mask", "email=hash")
            time.sleep(0.5)


class Concurrency(unittest.TestCase):
    def test_tenants_reading_at_once_each_see_their_own(self):
        errors = []
        seen = []

        def reader(token, tenant, sql):
            try:
                if sql:
                    t = sql_for(token=token).execute("SELECT * FROM customers")
                else:
                    _, t = read_path(*bearer(token))
                seen.append((tenant, set(t.column("tenant").to_pylist()), t.num_rows))
            except Exception as e:  # noqa: BLE001 - collected and reported below
                errors.append(repr(e))

        tokens = [(os.environ["FG_ACME_TOKEN"], "acme"), (os.environ["FG_GLOBEX_TOKEN"], "globex")]
        threads = [threading.Thread(target=reader, args=(*tokens[k % 2], k % 4 >= 2)) for k in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # A principal may run sql.maxConcurrentQueriesPerPrincipal (4) at once: the rest are told so.
        for e in errors:
            self.assertRegex(e, "maxConcurrentQueriesPerPrincipal")
        self.assertGreaterEqual(len(seen), 8)
        for tenant, tenants, rows in seen:
            self.assertEqual(tenants, {tenant})
            self.assertEqual(rows, N // 3)


def tearDownModule():
    with open(os.environ["FG_OUT"], "w") as f:
        json.dump(observed, f)


if __name__ == "__main__":
    unittest.main(verbosity=2)
