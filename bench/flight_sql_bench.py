"""
Flight SQL, flightgate against the reference (bench/flight_sql_reference_server.py: pyarrow's
C++ Flight server with DuckDB's Python package, GizmoSQL's shape), the same datasets and queries,
alternating, in one run: a full scan and a 10 % filter of numbers (MB/s), a grouped aggregate with
a small result (queries/s, 1 and 2 client threads), a join of two datasets; and a DoGet of numbers
by a reader under a row and column policy (half the rows, names masked last4) against the
reference answering the same view as SQL. Each figure is one
JSON line; summaries give the flightgate/reference ratio of the medians and the per-round spread; a round in which
the reference's own figure strays more than 30 % from its median is measured again.

usage: flight_sql_bench.py NUMBERS_FILE GENERATED_PROTO_DIR NAME=URI,PID
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import pyarrow as pa
import pyarrow.flight as flight

NUMBERS, GEN = sys.argv[1], sys.argv[2]
FG_NAME, FG_TARGET = sys.argv[3].split("=", 1)
FG_URI, FG_PID = FG_TARGET.rsplit(",", 1)
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
SMALL_SECONDS = float(os.environ.get("BENCH_SQL_SMALL_SECONDS", "2"))
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, GEN)
import flight_sql_subset_pb2 as pb  # noqa: E402
from google.protobuf import any_pb2  # noqa: E402
from bench_common import cpu_seconds, emit, quiet_rounds, ratio_summary  # noqa: E402

LARGE = {
    "scan": "SELECT * FROM numbers",
    "filter10": "SELECT * FROM numbers WHERE id % 10 = 0",
    "join": "SELECT n.id, n.value, d.name AS label FROM numbers n JOIN db1 d ON n.id % 3 = d.id",
}
# What the reference runs for the policy view that flightgate's bench-reader gets by a plain DoGet.
POLICY_VIEW = ("SELECT id, value, CASE WHEN name IS NULL THEN NULL WHEN length(name) <= 4 THEN repeat('*', length(name)) "
               "ELSE repeat('*', length(name) - 4) || right(name, 4) END AS name FROM numbers WHERE id % 2 = 0")
SMALL = {"aggregate": "SELECT id % 100 AS k, count(*) AS n, sum(value) AS s FROM numbers GROUP BY k ORDER BY k"}


def pack(msg):
    a = any_pb2.Any()
    a.Pack(msg, type_url_prefix="type.googleapis.com/")
    return a.SerializeToString()


def login(uri, user=b"admin", password=b"admin123"):
    client = flight.FlightClient(uri)
    return client, flight.FlightCallOptions(headers=[client.authenticate_basic_token(user, password)])


def policy_doget(client, options):
    info = client.get_flight_info(flight.FlightDescriptor.for_path("numbers"), options)
    nbytes = rows = 0
    for chunk in client.do_get(info.endpoints[0].ticket, options):
        nbytes += chunk.data.nbytes
        rows += chunk.data.num_rows
    return nbytes, rows


def query(client, options, sql):
    info = client.get_flight_info(flight.FlightDescriptor.for_command(pack(pb.CommandStatementQuery(query=sql))), options)
    nbytes = rows = 0
    for e in info.endpoints:
        for chunk in client.do_get(e.ticket, options):
            nbytes += chunk.data.nbytes
            rows += chunk.data.num_rows
    return nbytes, rows


def queries_per_second(uri, sql, threads):
    clients = [login(uri) for _ in range(threads)]
    stop = time.perf_counter() + SMALL_SECONDS
    counts = [0] * threads

    def loop(i):
        c, o = clients[i]
        while time.perf_counter() < stop:
            query(c, o, sql)
            counts[i] += 1

    ts = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(counts) / (time.perf_counter() - started), sum(counts)


def main():
    fg_client, fg_options = login(FG_URI)
    tmp = tempfile.mkdtemp(prefix="fg-sql-bench-")
    files = [f"numbers={NUMBERS}"]
    for name in ("db1", "db2"):
        path = os.path.join(tmp, f"{name}.arrows")
        table = fg_client.do_get(flight.Ticket(name.encode()), fg_options).read_all()
        with pa.OSFile(path, "wb") as sink, pa.ipc.new_stream(sink, table.schema) as w:
            w.write_table(table)
        files.append(f"{name}={path}")
    ref = subprocess.Popen([sys.executable, os.path.join(HERE, "flight_sql_reference_server.py"), GEN, *files], stdout=subprocess.PIPE, text=True)
    try:
        port = int(ref.stdout.readline().split()[-1])
        servers = {FG_NAME: (FG_URI, int(FG_PID)), "reference": (f"grpc://127.0.0.1:{port}", ref.pid)}
        sessions = {name: login(uri) for name, (uri, _) in servers.items()}
        restricted = login(FG_URI, b"bench-reader", b"bench-reader-password")
        # The policy view: flightgate's reader reads the dataset, the reference runs the view's SQL.
        reads = {**{k: (lambda name, sql=sql: query(*sessions[name], sql)) for k, sql in LARGE.items()},
                 "policy_doget": lambda name: policy_doget(*restricted) if name == FG_NAME else query(*sessions[name], POLICY_VIEW)}
        for name in servers:  # warm-up: page cache, JIT, connections
            for read in reads.values():
                read(name)
            for sql in SMALL.values():
                query(*sessions[name], sql)

        def measure_read(kind, run):
            figures = {}
            for name in list(servers)[run % 2:] + list(servers)[:run % 2]:
                pid = servers[name][1]
                c0, t0 = cpu_seconds(pid), time.perf_counter()
                nbytes, rows = reads[kind](name)
                elapsed = time.perf_counter() - t0
                used = cpu_seconds(pid) - c0
                figures[name], figures[f"{name}:cpu"] = nbytes / elapsed / 1e6, used
                emit(bench=f"sql_{kind}", server=name, run=run, rows=rows, mb=round(nbytes / 1e6, 1), seconds=round(elapsed, 3),
                     mb_per_s=round(figures[name], 1), server_cpu_s=round(used, 3))
            return figures

        def measure_small(kind, threads, run):
            figures = {}
            for name in list(servers)[run % 2:] + list(servers)[:run % 2]:
                figures[name], n = queries_per_second(servers[name][0], SMALL[kind], threads)
                emit(bench=f"sql_{kind}", server=name, run=run, threads=threads, queries=n, queries_per_s=round(figures[name], 1))
            return figures

        for kind in reads:
            rounds, counts = quiet_rounds(RUNS, lambda run: measure_read(kind, run), ["reference"])
            cpu = lambda name: round(statistics.median(r[f"{name}:cpu"] for r in rounds), 3)
            emit(bench=f"sql_{kind}", summary=True, **ratio_summary(rounds, counts, FG_NAME, "reference", "mb_per_s"),
                 flightgate_server_cpu_s=cpu(FG_NAME), reference_server_cpu_s=cpu("reference"))
        for kind in SMALL:
            for threads in (1, 2):
                rounds, counts = quiet_rounds(RUNS, lambda run: measure_small(kind, threads, run), ["reference"])
                emit(bench=f"sql_{kind}", summary=True, threads=threads, **ratio_summary(rounds, counts, FG_NAME, "reference", "queries_per_s"))
    finally:
        ref.terminate()
        ref.wait()


if __name__ == "__main__":
    main()
