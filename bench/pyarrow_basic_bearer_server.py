"""
The reference for authenticated small calls: a pyarrow (C++) Flight server with Basic→Bearer
header middleware in the style of the Arrow Python cookbook ("Authentication with user/password"):
Handshake with `authorization: Basic` gets a random bearer token back in the `authorization`
header; every other call must carry a known token. Serves db1 (3 rows) and the `ping` action.
"""
import base64
import json
import secrets
import sys

import pyarrow as pa
import pyarrow.flight as flight

USERS = {"user1": "pass1"}


class BearerMiddleware(flight.ServerMiddleware):
    def __init__(self, token):
        self.token = token

    def sending_headers(self):
        return {"authorization": f"Bearer {self.token}"} if self.token else {}


class BasicBearerFactory(flight.ServerMiddlewareFactory):
    def __init__(self):
        self.tokens = {}

    def start_call(self, info, headers):
        values = headers.get("authorization") or []
        if not values:
            raise flight.FlightUnauthenticatedError("no credentials")
        scheme, _, credential = values[0].partition(" ")
        if scheme == "Basic":
            user, _, password = base64.b64decode(credential).decode().partition(":")
            if USERS.get(user) != password:
                raise flight.FlightUnauthenticatedError("invalid user name or password")
            token = secrets.token_urlsafe(32)
            self.tokens[token] = user
            return BearerMiddleware(token)
        if scheme == "Bearer" and credential in self.tokens:
            return BearerMiddleware(None)
        raise flight.FlightUnauthenticatedError("invalid token")


class NoOpAuthHandler(flight.ServerAuthHandler):
    """Lets Handshake through so the middleware, not an auth handler, decides (as in the cookbook)."""

    def authenticate(self, outgoing, incoming):
        pass

    def is_valid(self, token):
        return ""


class Server(flight.FlightServerBase):
    def __init__(self, location):
        super().__init__(location, auth_handler=NoOpAuthHandler(), middleware={"auth": BasicBearerFactory()})
        self.table = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "name": ["a", "b", "c"]})

    def get_flight_info(self, context, descriptor):
        endpoint = flight.FlightEndpoint(b"db1", [])
        return flight.FlightInfo(self.table.schema, descriptor, [endpoint], self.table.num_rows, self.table.nbytes)

    def do_action(self, context, action):
        if action.type == "ping":
            yield flight.Result(json.dumps({"ok": True}).encode())
        else:
            raise flight.FlightServerError(f"unknown action {action.type}")


if __name__ == "__main__":
    server = Server("grpc://127.0.0.1:0")
    print(f"listening on {server.port}", flush=True)
    server.serve()
