"""
The three OAuth flows with the official pyarrow Flight client, as the README shows them:
client_credentials, an external identity provider's token sent directly, and that token
exchanged for ours; plus API keys and revocation. Run by test/interop/pyarrow-oauth.test.ts with:
  FG_URI, FG_HTTP             flightgate's Flight and token service addresses
  FG_CLIENT_ID, FG_CLIENT_SECRET   a client with role demo-db1-reader
  FG_API_KEY                  an API key with role demo-db2-reader
  IDP_USER, IDP_ADMIN, IDP_READONLY  external access tokens whose groups are user_role,
                              admin_role and readonly_role
  FG_SECRETS_FILE             every token this suite obtains is appended here
"""
import base64
import json
import os
import unittest
import urllib.error
import urllib.parse
import urllib.request

import pyarrow.flight as flight

URI = os.environ["FG_URI"]
HTTP = os.environ["FG_HTTP"]
SECRETS = os.environ["FG_SECRETS_FILE"]


def remember(secret):
    with open(SECRETS, "a") as f:
        f.write(secret + "\n")
    return secret


def post(path, params, client=None):
    headers = {"content-type": "application/x-www-form-urlencoded"}
    if client:
        pair = f"{urllib.parse.quote(client[0])}:{urllib.parse.quote(client[1])}"
        headers["authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    req = urllib.request.Request(HTTP + path, data=urllib.parse.urlencode(params).encode(), headers=headers)
    try:
        with urllib.request.urlopen(req) as res:
            body = res.read()
            return res.status, json.loads(body) if body else {}
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def bearer(token):
    return flight.FlightCallOptions(headers=[(b"authorization", b"Bearer " + token.encode())])


def readable(token):
    client = flight.FlightClient(URI)
    names = sorted(f.descriptor.path[0].decode() for f in client.list_flights(options=bearer(token)))
    client.close()
    return names


def read_rows(token, dataset):
    client = flight.FlightClient(URI)
    options = bearer(token)
    info = client.get_flight_info(flight.FlightDescriptor.for_path(dataset), options)
    rows = client.do_get(info.endpoints[0].ticket, options).read_all().num_rows
    client.close()
    return rows


CLIENT = (os.environ["FG_CLIENT_ID"], os.environ["FG_CLIENT_SECRET"])


class ClientCredentials(unittest.TestCase):
    def test_a_job_reads_its_datasets_with_a_bearer_jwt(self):
        status, body = post("/oauth2/token", {"grant_type": "client_credentials"}, CLIENT)
        self.assertEqual(status, 200, body)
        token = remember(body["access_token"])
        self.assertEqual(body["token_type"], "Bearer")
        self.assertEqual(readable(token), ["db1"])
        self.assertEqual(read_rows(token, "db1"), 3)
        with self.assertRaises(flight.FlightUnauthorizedError):
            read_rows(token, "db2")

    def test_wrong_secret_is_invalid_client(self):
        status, body = post("/oauth2/token", {"grant_type": "client_credentials"}, (CLIENT[0], "not-the-secret"))
        self.assertEqual((status, body["error"]), (401, "invalid_client"))

    def test_a_revoked_token_is_unauthenticated(self):
        _, body = post("/oauth2/token", {"grant_type": "client_credentials"}, CLIENT)
        token = remember(body["access_token"])
        self.assertEqual(read_rows(token, "db1"), 3)
        status, _ = post("/oauth2/revoke", {"token": token, "token_type_hint": "access_token"}, CLIENT)
        self.assertEqual(status, 200)
        with self.assertRaises(flight.FlightUnauthenticatedError):
            read_rows(token, "db1")


class ExternalIdentityProvider(unittest.TestCase):
    def test_groups_decide_the_datasets(self):
        self.assertEqual(readable(os.environ["IDP_USER"]), ["db1"])
        self.assertEqual(readable(os.environ["IDP_ADMIN"]), ["db1", "db2"])
        self.assertEqual(readable(os.environ["IDP_READONLY"]), ["db2"])
        self.assertEqual(read_rows(os.environ["IDP_READONLY"], "db2"), 3)
        with self.assertRaises(flight.FlightUnauthorizedError):
            read_rows(os.environ["IDP_USER"], "db2")

    def test_a_tampered_token_is_unauthenticated(self):
        head, payload, sig = os.environ["IDP_USER"].split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims["groups"] = ["admin_role"]
        forged = ".".join([head, base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("="), sig])
        with self.assertRaises(flight.FlightUnauthenticatedError):
            readable(forged)

    def test_exchanged_for_a_flightgate_token(self):
        status, body = post(
            "/oauth2/token",
            {
                "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
                "subject_token": os.environ["IDP_USER"],
                "subject_token_type": "urn:ietf:params:oauth:token-type:access_token",
            },
        )
        self.assertEqual(status, 200, body)
        token = remember(body["access_token"])
        self.assertEqual(readable(token), ["db1"])
        self.assertEqual(read_rows(token, "db1"), 3)
        # By default an exchange gives no refresh token: its roles are frozen at the exchange,
        # so what it gives ends with the IdP token (exchange again for more).
        self.assertNotIn("refresh_token", body)


class ApiKeys(unittest.TestCase):
    def test_an_api_key_is_a_bearer(self):
        self.assertEqual(readable(os.environ["FG_API_KEY"]), ["db2"])
        with self.assertRaises(flight.FlightUnauthenticatedError):
            readable("fgk_" + "x" * 43)


if __name__ == "__main__":
    unittest.main(verbosity=2)
