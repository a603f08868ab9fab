"""
Flight calls per second with a JWT bearer (from flightgate's client_credentials grant) against
the same calls with a session token (from a Basic login), on one flightgate server, with the
pyarrow client, taking turns round by round.

usage: jwt_calls_bench.py FLIGHTGATE_URI TOKEN_URL CLIENT_ID CLIENT_SECRET
Prints one JSON line per round and one summary line per figure (medians).
"""
import base64
import json
import os
import statistics
import sys
import urllib.parse
import urllib.request

import pyarrow.flight as flight
from threaded_rate import calls_per_second

FG, TOKEN_URL, CLIENT_ID, CLIENT_SECRET = sys.argv[1:5]
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "2"))
DESCRIPTOR = flight.FlightDescriptor.for_path("db1")


def emit(**kw):
    print(json.dumps(kw), flush=True)


def client_credentials_token():
    basic = base64.b64encode(f"{urllib.parse.quote(CLIENT_ID)}:{urllib.parse.quote(CLIENT_SECRET)}".encode()).decode()
    req = urllib.request.Request(
        TOKEN_URL,
        data=b"grant_type=client_credentials",
        headers={"authorization": f"Basic {basic}", "content-type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(req) as res:
        return json.load(res)["access_token"]


def jwt_session():
    client = flight.FlightClient(FG)
    return client, flight.FlightCallOptions(headers=[(b"authorization", b"Bearer " + client_credentials_token().encode())])


def login_session():
    client = flight.FlightClient(FG)
    return client, flight.FlightCallOptions(headers=[client.authenticate_basic_token(b"user1", b"pass1")])


def rate(make, threads):
    sessions = [make() for _ in range(threads)]
    for client, options in sessions:
        for _ in range(50):
            client.get_flight_info(DESCRIPTOR, options)
    return calls_per_second(sessions, lambda client, options: client.get_flight_info(DESCRIPTOR, options), SECONDS)


KINDS = (("jwt", jwt_session), ("session", login_session))

for threads in (1, 2):
    results = {"jwt": [], "session": []}
    ratios = []
    for r in range(RUNS):
        # Turns alternate which kind goes first, so neither always gets the warmer machine.
        for kind, make in KINDS if r % 2 == 0 else KINDS[::-1]:
            x = rate(make, threads)
            results[kind].append(x)
            emit(bench="flight-bearer", round=r + 1, threads=threads, bearer=kind, rpc="GetFlightInfo", calls_per_s=round(x))
        ratios.append(results["jwt"][-1] / results["session"][-1])
    jwt, session = statistics.median(results["jwt"]), statistics.median(results["session"])
    emit(
        bench="flight-bearer",
        figure=f"GetFlightInfo calls/s, {threads} thread(s): JWT vs session token",
        jwt=round(jwt),
        session=round(session),
        ratio=round(statistics.median(ratios), 3),
        ratio_is="median of the per-round ratios",
        goal="JWT within 10% of session (ratio >= 0.9)",
    )
