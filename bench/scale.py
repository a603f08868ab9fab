"""
How cost grows (npm run bench:scale): flightgate against a pyarrow (C++) Flight server doing the
same, one JSON line per figure, each with the flightgate/pyarrow ratio where pyarrow can do it.

  datasets   ListFlights and GetFlightInfo latency, and server RSS, with 10, 1,000 and 10,000
             datasets (small Arrow files in the data directory / tables in the reference)
  doget      aggregate DoGet MB/s and p99 latency with 1, 4, 16 and 64 concurrent clients
  doput      commits per second of 1, 10 and 100 concurrent small uploads (flightgate durable,
             the reference writing and fsyncing an IPC file before it answers)
  (sessions: bench/sessions_scale.py, run after this by scripts/bench-scale.sh)

usage: scale.py WORK_DIR   (scripts/bench-scale.sh starts the servers it needs through this)
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time

import pyarrow as pa
import pyarrow.flight as flight

from bench_common import emit

WORK = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
NODE = os.environ.get("NODE", "node")
SECONDS = float(os.environ.get("BENCH_SCALE_SECONDS", "3"))


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


def cli(data, *args, stdin=None):
    r = subprocess.run([NODE, os.path.join(ROOT, "bin", "flightgate.js"), *args, "--data-dir", data], input=stdin, capture_output=True, text=True,
                       env={**os.environ, "FLIGHTGATE_DATABASE_URL": "", "FLIGHTGATE_REDIS_URL": ""})
    if r.returncode != 0 and "already exists" not in r.stderr:
        raise RuntimeError(r.stderr)


def start_flightgate(data, **env):
    """`serve` on `data` with a user bench/bench-password-1 that may read and write everything."""
    cli(data, "roles", "create", "bench-all")
    cli(data, "roles", "grant", "bench-all", "--dataset", "*", "--action", "admin")
    cli(data, "users", "add", "bench", "--role", "bench-all", "--password-stdin", stdin="bench-password-1\n")
    log = open(os.path.join(data, "serve.log"), "w")
    p = subprocess.Popen([NODE, os.path.join(ROOT, "bin", "flightgate.js"), "serve", "--port", "0", "--http-port", "0", "--data-dir", data],
                         stdout=subprocess.PIPE, stderr=log, text=True,
                         env={**os.environ, "FLIGHTGATE_AUDIT_FILE": os.path.join(data, "audit.log"), "FLIGHTGATE_DATABASE_URL": "", "FLIGHTGATE_REDIS_URL": "", **env})
    for line in p.stdout:
        if line.startswith("flightgate listening on "):
            uri = line.split()[-1]
            threading.Thread(target=lambda: [None for _ in p.stdout], daemon=True).start()
            return p, uri
    raise RuntimeError(f"flightgate did not start: {open(os.path.join(data, 'serve.log')).read()}")


def start_reference(*args):
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "scale_reference_server.py"), *args], stdout=subprocess.PIPE, text=True)
    port = int(p.stdout.readline().split()[-1])
    return p, f"grpc://127.0.0.1:{port}"


def fg_options(client):
    return flight.FlightCallOptions(headers=[client.authenticate_basic_token(b"bench", b"bench-password-1")])


def connect(name, uri, n):
    """`n` clients of one server, each with its call options (flightgate's logged in)."""
    clients = [flight.FlightClient(uri) for _ in range(n)]
    return clients, [fg_options(c) if name == "flightgate" else flight.FlightCallOptions() for c in clients]


def close_all(clients):
    for c in clients:
        c.close()


def stop(p):
    p.terminate()
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()


def small_table(rows, seed=0):
    return pa.table({"id": pa.array(range(seed, seed + rows), pa.int64()), "value": pa.array([i * 0.5 for i in range(rows)], pa.float64()),
                     "name": pa.array([f"n{i % 97}" for i in range(rows)], pa.string())})


def median_ms(f, n):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 3)


def datasets():
    table = small_table(100)
    for n in (10, 1000, 10000):
        data = os.path.join(WORK, f"datasets-{n}")
        os.makedirs(data, mode=0o700)
        for i in range(n):
            with pa.OSFile(os.path.join(data, f"ds{i:05d}.arrows"), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as w:
                w.write_table(table)
        fg, fg_uri = start_flightgate(data)
        ref, ref_uri = start_reference("datasets", str(n))
        try:
            figures = {}
            for name, uri, pid in (("flightgate", fg_uri, fg.pid), ("pyarrow", ref_uri, ref.pid)):
                c = flight.FlightClient(uri)
                o = fg_options(c) if name == "flightgate" else flight.FlightCallOptions()
                listed = len(list(c.list_flights(options=o)))
                assert listed == n, f"{name} listed {listed} of {n}"
                lf = median_ms(lambda: list(c.list_flights(options=o)), 5 if n >= 10000 else 20)
                names = [f"ds{i:05d}" for i in range(0, n, max(1, n // 50))]
                k = iter(range(10 ** 9))
                gfi = median_ms(lambda: c.get_flight_info(flight.FlightDescriptor.for_path(names[next(k) % len(names)]), o), 300)
                figures[name] = (lf, gfi, rss_mb(pid))
                emit(bench="scale_datasets", server=name, datasets=n, list_flights_ms=lf, get_flight_info_ms=gfi, rss_mb=rss_mb(pid))
            f, p = figures["flightgate"], figures["pyarrow"]
            emit(bench="scale_datasets", summary=True, datasets=n, list_flights_ratio=round(f[0] / p[0], 3), get_flight_info_ratio=round(f[1] / p[1], 3),
                 note="ratios of latencies: above 1 is slower than pyarrow", flightgate_rss_mb=f[2], pyarrow_rss_mb=p[2])
        finally:
            stop(fg)
            stop(ref)
            shutil.rmtree(data, ignore_errors=True)


def concurrent(clients, work):
    """Runs work(i) in `clients` threads for SECONDS; returns (operations, bytes, latencies ms, elapsed s)."""
    stop_at = time.perf_counter() + SECONDS
    lat, nbytes, errors = [], [0], []
    lock = threading.Lock()

    def loop(i):
        try:
            while time.perf_counter() < stop_at:
                t0 = time.perf_counter()
                b = work(i)
                dt = (time.perf_counter() - t0) * 1000
                with lock:
                    lat.append(dt)
                    nbytes[0] += b
        except Exception as e:  # noqa: BLE001 - reported as the figure's error
            errors.append(repr(e)[:200])

    ts = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise RuntimeError(f"{len(errors)} of {clients} clients failed: {errors[0]}")
    return len(lat), nbytes[0], lat, time.perf_counter() - t0


def p99(lat):
    s = sorted(lat)
    return round(s[min(len(s) - 1, int(len(s) * 0.99))], 2)


def doget():
    data = os.path.join(WORK, "doget")
    os.makedirs(data, mode=0o700)
    rows = 1_000_000
    table = pa.table({"id": pa.array(range(rows), pa.int64()), "value": pa.array([i * 0.5 for i in range(rows)], pa.float64())})
    path = os.path.join(data, "million.arrows")
    with pa.OSFile(path, "wb") as sink, pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table, max_chunksize=65536)
    fg, fg_uri = start_flightgate(data)
    ref, ref_uri = start_reference("doget", path)
    try:
        for n in (1, 4, 16, 64):
            figures = {}
            for name, uri in (("flightgate", fg_uri), ("pyarrow", ref_uri)):
                clients, opts = connect(name, uri, n)

                def work(i, clients=clients, opts=opts):
                    b = 0
                    for chunk in clients[i].do_get(flight.Ticket(b"million"), opts[i]):
                        b += chunk.data.nbytes
                    return b

                ops, nbytes, lat, elapsed = concurrent(n, work)
                figures[name] = (nbytes / elapsed / 1e6, p99(lat))
                emit(bench="scale_doget", server=name, clients=n, reads=ops, mb_per_s=round(nbytes / elapsed / 1e6, 1), p99_ms=p99(lat))
                close_all(clients)
            f, p = figures["flightgate"], figures["pyarrow"]
            emit(bench="scale_doget", summary=True, clients=n, mb_per_s_ratio=round(f[0] / p[0], 3), p99_ratio=round(f[1] / p[1], 3))
    finally:
        stop(fg)
        stop(ref)
        shutil.rmtree(data, ignore_errors=True)


def doput():
    data = os.path.join(WORK, "doput")
    os.makedirs(data, mode=0o700)
    durable = os.path.join(WORK, "doput-reference")
    os.makedirs(durable, mode=0o700)
    table = small_table(1000)
    fg, fg_uri = start_flightgate(data, FLIGHTGATE_DURABLE_WRITES="true")
    ref, ref_uri = start_reference("doput", durable)
    try:
        for n in (1, 10, 100):
            figures = {}
            for name, uri in (("flightgate", fg_uri), ("pyarrow-durable", ref_uri)):
                clients, opts = connect(name, uri, n)
                counter = [0] * n

                def work(i, clients=clients, opts=opts, counter=counter, name=name):
                    counter[i] += 1
                    dataset = f"put_{n}_{i}_{counter[i] % 4}"
                    d = (flight.FlightDescriptor.for_command(json.dumps({"dataset": dataset, "mode": "replace"})) if name == "flightgate"
                         else flight.FlightDescriptor.for_path(dataset))
                    w, _ = clients[i].do_put(d, table.schema, opts[i])
                    w.write_table(table)
                    w.close()
                    return table.nbytes

                ops, _, lat, elapsed = concurrent(n, work)
                figures[name] = (ops / elapsed, p99(lat))
                emit(bench="scale_doput", server=name, clients=n, commits=ops, commits_per_s=round(ops / elapsed, 1), p99_ms=p99(lat))
                close_all(clients)
            f, p = figures["flightgate"], figures["pyarrow-durable"]
            emit(bench="scale_doput", summary=True, clients=n, commits_per_s_ratio=round(f[0] / p[0], 3), p99_ratio=round(f[1] / p[1], 3))
    finally:
        stop(fg)
        stop(ref)
        shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(durable, ignore_errors=True)


if __name__ == "__main__":
    only = os.environ.get("BENCH_SCALE_ONLY", "datasets,doget,doput").split(",")
    for part in ("datasets", "doget", "doput"):
        if part in only:
            globals()[part]()
