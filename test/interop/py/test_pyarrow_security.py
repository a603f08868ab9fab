"""
Authentication and authorization as the official pyarrow Flight client sees them.

The node wrapper (test/interop/pyarrow-security.test.ts) starts the servers and sets:
  FG_URI          a demo server with default session timings
  FG_SHORT_URI    sessions: lifetime 3 s, idle 1.2 s, no rotation; registry cache 300 ms; lockout after 5 failures
  FG_ROTATE_URI   sessions: lifetime 4 s, idle 3 s, rotation after half the lifetime, 1 s grace
  FG_CLI          JSON array: the command that runs the flightgate CLI
  FG_CLI_ENV      JSON object: environment for CLI calls against FG_URI's registry
  FG_SHORT_CLI_ENV  the same for FG_SHORT_URI
  FG_SECRETS_FILE every password and token used here is appended to it, so the wrapper can check
                  that none of them reached a log
"""
import base64
import json
import os
import secrets
import subprocess
import time
import unittest

import pyarrow as pa
import pyarrow.flight as flight

URI = os.environ["FG_URI"]
SHORT_URI = os.environ["FG_SHORT_URI"]
ROTATE_URI = os.environ["FG_ROTATE_URI"]
CLI = json.loads(os.environ["FG_CLI"])
CLI_ENV = json.loads(os.environ["FG_CLI_ENV"])
SHORT_CLI_ENV = json.loads(os.environ["FG_SHORT_CLI_ENV"])
SECRETS_FILE = os.environ["FG_SECRETS_FILE"]


def remember(*values):
    with open(SECRETS_FILE, "a") as f:
        for v in values:
            f.write((v.decode() if isinstance(v, bytes) else v) + "\n")


remember("admin123", "pass1", "pass2")


def cli(args, env, stdin=None):
    result = subprocess.run(CLI + args, input=stdin, capture_output=True, text=True, env={**os.environ, **env}, timeout=60)
    if result.returncode != 0:
        raise AssertionError(f"flightgate {' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return result.stdout


def new_user(env, datasets=("db1",)):
    """A fresh user with its own role reading `datasets`, so tests that change users do not interfere."""
    name = "u_" + secrets.token_hex(4)
    password = "pw-" + secrets.token_urlsafe(12)
    remember(password)
    cli(["roles", "create", f"{name}_role"], env)
    for d in datasets:
        cli(["roles", "grant", f"{name}_role", "--dataset", d, "--action", "read"], env)
    cli(["users", "add", name, "--role", f"{name}_role", "--password-stdin"], env, stdin=password + "\n")
    return name, password


def login(uri, user, password):
    client = flight.FlightClient(uri)
    pair = client.authenticate_basic_token(user.encode(), password.encode())
    remember(pair[1])
    return client, flight.FlightCallOptions(headers=[pair])


def path(name):
    return flight.FlightDescriptor.for_path(name)


def basic_header(user, password, pad=True):
    value = base64.b64encode(f"{user}:{password}".encode()).decode()
    if not pad:
        value = value.rstrip("=")
    return (b"authorization", b"Basic " + value.encode())


def listed(client, options):
    return sorted(info.descriptor.path[0].decode() for info in client.list_flights(options=options))


class TokenHandler(flight.ClientAuthHandler):
    """The older Handshake style: a BasicAuth payload out, the session token back."""

    def __init__(self, user, password):
        super().__init__()
        self.basic = flight.BasicAuth(user, password)
        self.token = b""

    def authenticate(self, outgoing, incoming):
        outgoing.write(self.basic.serialize())
        self.token = incoming.read()

    def get_token(self):
        return self.token


class HeaderRecorder(flight.ClientMiddlewareFactory):
    """Keeps the response headers of every call, to see rotated tokens."""

    def __init__(self):
        self.seen = []

    def start_call(self, info):
        recorder = self

        class Middleware(flight.ClientMiddleware):
            def received_headers(self, headers):
                recorder.seen.append(headers)

        return Middleware()

    def bearer_tokens(self):
        out = []
        for headers in self.seen:
            for key, values in headers.items():
                if key.lower() == "authorization":
                    for v in values:
                        v = v.decode() if isinstance(v, bytes) else v
                        if v.startswith("Bearer "):
                            out.append(v[len("Bearer "):])
        return out


class TestLogin(unittest.TestCase):
    def test_basic_header_handshake_returns_a_bearer_session_token(self):
        client = flight.FlightClient(URI)
        key, value = client.authenticate_basic_token(b"user1", b"pass1")
        remember(value)
        self.assertEqual(key.lower(), b"authorization")
        self.assertRegex(value.decode(), r"^Bearer fgs_[A-Za-z0-9_-]{43}$")
        options = flight.FlightCallOptions(headers=[(key, value)])
        self.assertEqual(client.get_flight_info(path("db1"), options).total_records, 3)

    def test_each_login_gets_its_own_token(self):
        a = flight.FlightClient(URI).authenticate_basic_token(b"user1", b"pass1")[1]
        b = flight.FlightClient(URI).authenticate_basic_token(b"user1", b"pass1")[1]
        remember(a, b)
        self.assertNotEqual(a, b)

    def test_basic_auth_payload_handshake_and_auth_token_bin(self):
        client = flight.FlightClient(URI)
        handler = TokenHandler("user2", "pass2")
        client.authenticate(handler)
        remember(handler.token)
        self.assertTrue(handler.token.startswith(b"fgs_"), handler.token[:8])
        # pyarrow now sends the token in auth-token-bin on every call.
        self.assertEqual(listed(client, flight.FlightCallOptions()), ["db2"])
        self.assertEqual(client.do_get(flight.Ticket(b"db2")).read_all().num_rows, 3)
        with self.assertRaises(flight.FlightUnauthorizedError):
            client.get_flight_info(path("db1"))

    def test_basic_auth_payload_with_a_wrong_password_is_refused(self):
        with self.assertRaises(flight.FlightUnauthenticatedError):
            flight.FlightClient(URI).authenticate(TokenHandler("user2", "not-the-password"))

    def test_stateless_basic_on_any_call_padded_or_not(self):
        client = flight.FlightClient(URI)
        for pad in (True, False):
            with self.subTest(padded=pad):
                options = flight.FlightCallOptions(headers=[basic_header("user1", "pass1", pad)])
                self.assertEqual(listed(client, options), ["db1"])
                self.assertEqual(client.do_get(flight.Ticket(b"db1"), options).read_all().num_rows, 3)
        with self.assertRaises(flight.FlightUnauthenticatedError):
            client.get_flight_info(path("db1"), flight.FlightCallOptions(headers=[basic_header("user1", "wrong-pass")]))

    def test_no_credentials_is_unauthenticated_on_every_rpc(self):
        client = flight.FlightClient(URI)
        calls = {
            "ListFlights": lambda: list(client.list_flights()),
            "GetFlightInfo": lambda: client.get_flight_info(path("db1")),
            "GetSchema": lambda: client.get_schema(path("db1")),
            "DoGet": lambda: client.do_get(flight.Ticket(b"db1")).read_all(),
            "DoAction": lambda: list(client.do_action(flight.Action("ping", b""))),
            "ListActions": lambda: client.list_actions(),
            "Handshake": lambda: client.authenticate(TokenHandler("", "")),
        }
        for rpc, call in calls.items():
            with self.subTest(rpc=rpc):
                with self.assertRaises((flight.FlightUnauthenticatedError, OSError)) as ctx:
                    call()
                self.assertIn("unauthenticated error", str(ctx.exception))

    def test_do_put_without_credentials_is_unauthenticated(self):
        table = pa.table({"x": [1, 2]})
        # The refusal reaches pyarrow at whichever write follows it: the schema sent by do_put
        # itself when the server answered first, else a batch or the close.
        with self.assertRaises(flight.FlightUnauthenticatedError):
            writer, _ = flight.FlightClient(URI).do_put(path("nope_upload"), table.schema)
            writer.write_table(table)
            writer.close()

    def test_unknown_user_and_wrong_password_get_the_same_answer(self):
        messages = []
        for user, password in ((b"user1", b"wrong-password"), (b"no_such_user_x", b"wrong-password")):
            with self.assertRaises(flight.FlightUnauthenticatedError) as ctx:
                flight.FlightClient(URI).authenticate_basic_token(user, password)
            messages.append(str(ctx.exception).split(". gRPC client debug context")[0])
        self.assertEqual(messages[0], messages[1])
        self.assertIn("invalid user name or password", messages[0])

    def test_garbage_and_foreign_bearer_tokens_are_unauthenticated(self):
        client = flight.FlightClient(URI)
        for value in (b"Bearer fgs_" + b"A" * 43, b"Bearer nonsense", b"Bearer ", b"Token abc", b"Basic !!!", b"Bearer"):
            with self.subTest(value=value):
                with self.assertRaises(flight.FlightUnauthenticatedError):
                    client.get_flight_info(path("db1"), flight.FlightCallOptions(headers=[(b"authorization", value)]))


class TestAuthorization(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.client, cls.user1 = login(URI, "user1", "pass1")
        cls.user2 = login(URI, "user2", "pass2")[1]
        cls.admin = login(URI, "admin", "admin123")[1]

    def test_list_flights_shows_only_what_the_caller_may_list(self):
        self.assertEqual(listed(self.client, self.user1), ["db1"])
        self.assertEqual(listed(self.client, self.user2), ["db2"])
        self.assertTrue({"db1", "db2", "numbers"} <= set(listed(self.client, self.admin)))

    def test_a_forbidden_dataset_is_permission_denied_on_every_read_rpc(self):
        calls = {
            "GetFlightInfo": lambda: self.client.get_flight_info(path("db2"), self.user1),
            "GetSchema": lambda: self.client.get_schema(path("db2"), self.user1),
            "DoGet": lambda: self.client.do_get(flight.Ticket(b"db2"), self.user1).read_all(),
            "describe": lambda: list(self.client.do_action(flight.Action("describe", b"db2"), self.user1)),
        }
        for rpc, call in calls.items():
            with self.subTest(rpc=rpc):
                # pyarrow raises GetSchema errors as a plain OSError carrying the Flight status.
                with self.assertRaises((flight.FlightUnauthorizedError, OSError)) as ctx:
                    call()
                self.assertIn("unauthorized error", str(ctx.exception))

    def test_a_missing_dataset_looks_the_same_as_a_forbidden_one(self):
        with self.assertRaises(flight.FlightUnauthorizedError) as missing:
            self.client.get_flight_info(path("no_such_dataset"), self.user1)
        with self.assertRaises(flight.FlightUnauthorizedError):
            self.client.get_flight_info(path("db2"), self.user1)
        self.assertNotIn("not found", str(missing.exception))
        # Someone who may read everything learns that it does not exist.
        with self.assertRaises(pa.ArrowKeyError):
            self.client.get_flight_info(path("no_such_dataset"), self.admin)

    def test_do_put_needs_write(self):
        table = pa.table({"x": pa.array([1, 2, 3], pa.int64())})
        name = "upload_" + secrets.token_hex(4)
        with self.assertRaises(flight.FlightUnauthorizedError):  # at do_put or at a later write, see above
            writer, _ = self.client.do_put(path(name), table.schema, self.user1)
            writer.write_table(table)
            writer.close()
        writer, _ = self.client.do_put(path(name), table.schema, self.admin)
        writer.write_table(table)
        writer.close()
        self.assertEqual(self.client.do_get(flight.Ticket(name.encode()), self.admin).read_all().num_rows, 3)
        with self.assertRaises(flight.FlightUnauthorizedError):
            self.client.get_flight_info(path(name), self.user1)

    def test_a_ticket_works_only_for_the_principal_it_was_issued_to(self):
        info = self.client.get_flight_info(path("db1"), self.user1)
        ticket = info.endpoints[0].ticket
        self.assertEqual(self.client.do_get(ticket, self.user1).read_all().num_rows, 3)
        # The admin may read db1, but not with user1's ticket.
        with self.assertRaises(flight.FlightUnauthorizedError) as ctx:
            self.client.do_get(ticket, self.admin).read_all()
        self.assertIn("another principal", str(ctx.exception))
        with self.assertRaises(flight.FlightUnauthenticatedError):
            self.client.do_get(ticket).read_all()

    def test_a_tampered_ticket_is_refused(self):
        raw = self.client.get_flight_info(path("db1"), self.user1).endpoints[0].ticket.ticket
        head, payload, mac = raw.split(b".")
        claims = json.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
        claims["d"] = "db2"
        forged = head + b"." + base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=") + b"." + mac
        with self.assertRaises(pa.ArrowInvalid):
            self.client.do_get(flight.Ticket(forged), self.user1).read_all()

    def test_a_bare_name_ticket_still_needs_read(self):
        self.assertEqual(self.client.do_get(flight.Ticket(b"db1"), self.user1).read_all().num_rows, 3)
        with self.assertRaises(flight.FlightUnauthorizedError):
            self.client.do_get(flight.Ticket(b"numbers"), self.user1).read_all()


class TestSessions(unittest.TestCase):
    def test_close_session_ends_the_session(self):
        client, options = login(URI, "user1", "pass1")
        results = list(client.do_action(flight.Action("CloseSession", b""), options))
        self.assertEqual([r.body.to_pybytes() for r in results], [b"\x08\x01"])  # CloseSessionResult{CLOSED}
        with self.assertRaises(flight.FlightUnauthenticatedError):
            client.get_flight_info(path("db1"), options)

    def test_refresh_returns_a_fresh_working_token(self):
        client, options = login(URI, "user1", "pass1")
        [result] = list(client.do_action(flight.Action("refresh", b""), options))
        body = json.loads(result.body.to_pybytes())
        remember(body["access_token"])
        self.assertEqual(body["token_type"], "Bearer")
        self.assertTrue(body["access_token"].startswith("fgs_"))
        self.assertEqual(body["expires_in"], 8 * 3600)
        fresh = flight.FlightCallOptions(headers=[(b"authorization", f"Bearer {body['access_token']}".encode())])
        self.assertEqual(client.get_flight_info(path("db1"), fresh).total_records, 3)

    def test_disabling_a_user_ends_their_sessions_and_logins(self):
        user, password = new_user(SHORT_CLI_ENV)
        client, options = login(SHORT_URI, user, password)
        self.assertEqual(client.get_flight_info(path("db1"), options).total_records, 3)
        cli(["users", "disable", user], SHORT_CLI_ENV)
        time.sleep(0.8)  # registry cache 300 ms on this server
        with self.assertRaises(flight.FlightUnauthenticatedError):
            client.get_flight_info(path("db1"), options)
        with self.assertRaises(flight.FlightUnauthenticatedError):
            login(SHORT_URI, user, password)
        cli(["users", "enable", user], SHORT_CLI_ENV)
        time.sleep(0.5)
        client, options = login(SHORT_URI, user, password)
        self.assertEqual(client.get_flight_info(path("db1"), options).total_records, 3)

    def test_a_new_password_ends_sessions_and_the_old_password(self):
        user, password = new_user(SHORT_CLI_ENV)
        client, options = login(SHORT_URI, user, password)
        new_password = "new-" + secrets.token_urlsafe(12)
        remember(new_password)
        cli(["users", "passwd", user, "--password-stdin"], SHORT_CLI_ENV, stdin=new_password + "\n")
        time.sleep(0.8)
        with self.assertRaises(flight.FlightUnauthenticatedError):
            client.get_flight_info(path("db1"), options)
        with self.assertRaises(flight.FlightUnauthenticatedError):
            login(SHORT_URI, user, password)
        client, options = login(SHORT_URI, user, new_password)
        self.assertEqual(client.get_flight_info(path("db1"), options).total_records, 3)

    def test_sessions_revoke_and_user_delete(self):
        user, password = new_user(SHORT_CLI_ENV)
        client, options = login(SHORT_URI, user, password)
        cli(["sessions", "revoke", user], SHORT_CLI_ENV)
        time.sleep(0.8)
        with self.assertRaises(flight.FlightUnauthenticatedError):
            client.get_flight_info(path("db1"), options)
        client, options = login(SHORT_URI, user, password)
        cli(["users", "delete", user], SHORT_CLI_ENV)
        time.sleep(0.8)
        with self.assertRaises(flight.FlightUnauthenticatedError):
            client.get_flight_info(path("db1"), options)

    def test_role_changes_apply_to_live_sessions(self):
        user, password = new_user(SHORT_CLI_ENV)
        client, options = login(SHORT_URI, user, password)
        with self.assertRaises(flight.FlightUnauthorizedError):
            client.get_flight_info(path("db2"), options)
        cli(["roles", "grant", f"{user}_role", "--dataset", "db2", "--action", "read"], SHORT_CLI_ENV)
        # Poll (which also keeps the session inside its 1.2 s idle timeout) until the grant shows.
        deadline = time.monotonic() + 1.0
        while True:
            try:
                self.assertEqual(client.get_flight_info(path("db2"), options).total_records, 3)
                break
            except flight.FlightUnauthorizedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def test_an_idle_session_ends(self):
        user, password = new_user(SHORT_CLI_ENV)
        client, options = login(SHORT_URI, user, password)
        client.get_flight_info(path("db1"), options)
        time.sleep(1.6)  # idle timeout 1.2 s
        with self.assertRaises(flight.FlightUnauthenticatedError):
            client.get_flight_info(path("db1"), options)

    def test_a_session_ends_at_its_absolute_lifetime_even_when_busy(self):
        user, password = new_user(SHORT_CLI_ENV)
        client, options = login(SHORT_URI, user, password)
        start = time.monotonic()
        ended_at = None
        while time.monotonic() - start < 4.5:
            try:
                client.get_flight_info(path("db1"), options)
            except flight.FlightUnauthenticatedError:
                ended_at = time.monotonic() - start
                break
            time.sleep(0.4)  # always inside the 1.2 s idle timeout
        self.assertIsNotNone(ended_at, "the session outlived its 3 s lifetime")
        self.assertGreater(ended_at, 2.5)

    def test_rotation_hands_out_a_fresh_token_and_the_old_one_has_a_grace_period(self):
        recorder = HeaderRecorder()
        client = flight.FlightClient(ROTATE_URI, middleware=[recorder])
        pair = client.authenticate_basic_token(b"user1", b"pass1")
        remember(pair[1])
        old = flight.FlightCallOptions(headers=[pair])
        login_token = pair[1].decode()[len("Bearer "):]
        client.get_flight_info(path("db1"), old)
        self.assertEqual(set(recorder.bearer_tokens()), {login_token}, "no rotation in the first half of the lifetime")
        time.sleep(2.1)  # past half of the 4 s lifetime
        client.get_flight_info(path("db1"), old)
        fresh_tokens = sorted(set(recorder.bearer_tokens()) - {login_token})
        self.assertEqual(len(fresh_tokens), 1, recorder.seen)
        remember(fresh_tokens[0])
        fresh = flight.FlightCallOptions(headers=[(b"authorization", f"Bearer {fresh_tokens[0]}".encode())])
        self.assertEqual(client.get_flight_info(path("db1"), fresh).total_records, 3)
        client.get_flight_info(path("db1"), old)  # within the 1 s grace period
        time.sleep(1.3)
        with self.assertRaises(flight.FlightUnauthenticatedError):
            client.get_flight_info(path("db1"), old)
        self.assertEqual(client.get_flight_info(path("db1"), fresh).total_records, 3)


class TestThrottle(unittest.TestCase):
    def test_repeated_failures_lock_the_account_not_others(self):
        user, password = new_user(SHORT_CLI_ENV)
        for _ in range(5):  # the short server locks after 5 failures
            with self.assertRaises(flight.FlightUnauthenticatedError):
                flight.FlightClient(SHORT_URI).authenticate_basic_token(user.encode(), b"wrong-password")
        with self.assertRaises(flight.FlightUnauthenticatedError) as ctx:
            flight.FlightClient(SHORT_URI).authenticate_basic_token(user.encode(), password.encode())
        self.assertIn("too many failed", str(ctx.exception))
        # Another account, even from the same address, still logs in.
        login(SHORT_URI, "user2", "pass2")


if __name__ == "__main__":
    unittest.main(verbosity=2)
