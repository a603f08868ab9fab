"""
Use the sign-in `flightgate login --server URL` saved, from Python (pyarrow, ADBC, notebooks).

    from flightgate_login import bearer_header
    import pyarrow.flight as flight
    client = flight.FlightClient("grpc+tls://flight.example.com:8815")
    options = flight.FlightCallOptions(headers=[bearer_header("https://flight.example.com:8443")])

Each call of `bearer_header` returns an authorization header with a fresh access token: the
saved refresh token is redeemed at the server's token endpoint and its successor written back
(refresh tokens rotate at every use), in the same file the CLI wrote, readable by you only.
Only the standard library is used.
"""
import json
import os
import tempfile
import time
import urllib.parse
import urllib.request


def credentials_path():
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "flightgate", "credentials.json")


def _origin(server):
    u = urllib.parse.urlsplit(server)
    return f"{u.scheme}://{u.netloc}"


def access_token(server, path=None):
    """A fresh access token for `server` (the token service's base URL), from the saved sign-in."""
    path = path or credentials_path()
    with open(path) as f:
        saved = json.load(f)
    key = _origin(server)
    entry = saved.get(key)
    if not entry or not entry.get("refresh_token"):
        raise RuntimeError(f"no saved sign-in for {key} in {path}: run flightgate login --server {key}")
    body = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": entry["refresh_token"]}).encode()
    request = urllib.request.Request(f"{key}/oauth2/token", data=body, headers={"content-type": "application/x-www-form-urlencoded", "accept": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.load(response)
    saved[key] = {"access_token": answer["access_token"], "refresh_token": answer.get("refresh_token", entry["refresh_token"]),
                  "expires_at": int((time.time() + answer.get("expires_in", 0)) * 1000)}
    # Written beside the file and renamed over it, owner-only, as the CLI writes it.
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".credentials.")
    with os.fdopen(fd, "w") as f:
        json.dump(saved, f, indent=2)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return answer["access_token"]


def bearer_header(server, path=None):
    """(b"authorization", b"Bearer …") for pyarrow.flight.FlightCallOptions(headers=[...])."""
    return (b"authorization", f"Bearer {access_token(server, path)}".encode())
