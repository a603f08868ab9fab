"""
Authenticated calls/s and server RSS with 1,000 and 100,000 live sessions, in memory and in Redis
(part of npm run bench:scale). The server is bench/sessions-server.mts: flightgate's own security
with the sessions put into its store before it starts. GetFlightInfo calls with session tokens,
1 and 2 client threads (each its own session), for BENCH_SCALE_SECONDS.

usage: sessions_scale.py WORK_DIR
"""
import json
import os
import socket
import subprocess
import sys
import time

import pyarrow.flight as flight

from bench_common import emit
from scale import ROOT, SECONDS, cli, rss_mb, stop
from threaded_rate import calls_per_second


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis():
    port = free_port()
    p = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return p, f"redis://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


def calls_per_second_with(uri, tokens, threads):
    """GetFlightInfo calls/s over `threads` threads, each with its own client and session token."""
    sessions = [(flight.FlightClient(uri), flight.FlightCallOptions(headers=[(b"authorization", f"Bearer {tokens[i]}".encode())])) for i in range(threads)]
    return calls_per_second(sessions, lambda c, o: c.get_flight_info(flight.FlightDescriptor.for_path("small"), o), SECONDS)


def main():
    work = sys.argv[1]
    data = os.path.join(work, "sessions")
    os.makedirs(data, mode=0o700)
    import pyarrow as pa
    with pa.OSFile(os.path.join(data, "small.arrows"), "wb") as sink, pa.ipc.new_stream(sink, pa.schema([("id", pa.int64())])) as w:
        w.write_table(pa.table({"id": pa.array(range(10), pa.int64())}))
    cli(data, "roles", "create", "bench-all")
    cli(data, "roles", "grant", "bench-all", "--dataset", "*", "--action", "read")
    cli(data, "users", "add", "bench", "--role", "bench-all", "--password-stdin", stdin="bench-password-1\n")
    for store in ("memory", "redis"):
        figures = {}
        for n in (1000, 100000):
            redis, url = start_redis() if store == "redis" else (None, "")
            tokens_file = os.path.join(work, "tokens.json")
            env = {**os.environ, "FG_TOKENS": tokens_file, "FLIGHTGATE_REDIS_URL": url, "FLIGHTGATE_DATABASE_URL": ""}
            p = subprocess.Popen(["node", "--expose-gc", "--import", "tsx", os.path.join(ROOT, "bench", "sessions-server.mts"), data, str(n)], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
            try:
                line = p.stdout.readline()
                if not line.startswith("flightgate listening on "):
                    raise RuntimeError(f"the sessions server did not start: {line}")
                uri = line.split()[3]
                tokens = json.load(open(tokens_file))
                rates = {t: round(calls_per_second_with(uri, tokens, t), 1) for t in (1, 2)}
                rss = rss_mb(p.pid)
                figures[n] = (rates, rss)
                emit(bench="scale_sessions", store=store, sessions=n, calls_per_s_1_thread=rates[1], calls_per_s_2_threads=rates[2], server_rss_mb=rss,
                     **({"redis_rss_mb": rss_mb(redis.pid)} if redis else {}))
            finally:
                stop(p)
                if redis:
                    stop(redis)
        small, large = figures[1000], figures[100000]
        emit(bench="scale_sessions", summary=True, store=store, calls_per_s_ratio_100k_to_1k=round(large[0][2] / small[0][2], 3),
             rss_growth_mb=round(large[1] - small[1], 1), rss_per_session_bytes=round((large[1] - small[1]) * 1024 * 1024 / 99000))


if __name__ == "__main__":
    main()
