"""
DoGet and DoPut of the 10M-row numbers dataset with the pyarrow Flight client, against
flightgate and against a pyarrow Flight server holding the same data, alternating, in one run.
Prints one JSON line per measurement and a summary line per RPC and flightgate server with the
flightgate/pyarrow ratio and its per-round spread. DoPut has a second reference: the pyarrow server writing each upload to
an Arrow IPC stream file and fsyncing it before it answers (`pyarrow-durable`), the durability
flightgate promises. A round in which a reference's own figure strays more than 30 % from its
median is measured again (bench_common.quiet_rounds).

usage: flight_bench.py NUMBERS_FILE NAME=URI,PID [NAME=URI,PID ...]
"""
import json, os, statistics, subprocess, sys, tempfile, time
import pyarrow as pa
import pyarrow.flight as flight
from bench_common import cpu_seconds, emit, quiet_rounds, ratio_summary

NUMBERS = sys.argv[1]
FLIGHTGATES = [(a.split("=", 1)[0], a.split("=", 1)[1].rsplit(",", 1)) for a in sys.argv[2:]]
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
# One DoGet of 300 MB takes ~0.15 s here; three per measurement steady the figure.
GET_REPEAT = int(os.environ.get("BENCH_GET_REPEAT", "3"))
HERE = os.path.dirname(os.path.abspath(__file__))


def do_get(client, options):
    # flightgate accepts a dataset name as a ticket, which is what the reference server expects.
    nbytes = rows = 0
    for _ in range(GET_REPEAT):
        for chunk in client.do_get(flight.Ticket(b"numbers"), options):
            nbytes += chunk.data.nbytes
            rows += chunk.data.num_rows
    return nbytes, rows


def do_put(client, table, descriptor, options):
    writer, _ = client.do_put(descriptor, table.schema, options)
    writer.write_table(table)
    writer.close()
    return table.nbytes, table.num_rows


def main():
    ref = subprocess.Popen([sys.executable, os.path.join(HERE, "pyarrow_server.py"), NUMBERS], stdout=subprocess.PIPE, text=True)
    durable_dir = tempfile.mkdtemp(prefix="fg-bench-durable-", dir=os.path.dirname(os.path.abspath(NUMBERS)))
    durable = subprocess.Popen([sys.executable, os.path.join(HERE, "pyarrow_server.py"), NUMBERS, "--durable", durable_dir], stdout=subprocess.PIPE, text=True)
    try:
        port = int(ref.stdout.readline().split()[-1])
        durable_port = int(durable.stdout.readline().split()[-1])
        servers = {name: (flight.FlightClient(uri), int(pid)) for name, (uri, pid) in FLIGHTGATES}
        servers["pyarrow"] = (flight.FlightClient(f"grpc://127.0.0.1:{port}"), ref.pid)
        servers["pyarrow-durable"] = (flight.FlightClient(f"grpc://127.0.0.1:{durable_port}"), durable.pid)
        # flightgate needs a login (the demo admin); the reference server has no authentication.
        options = {name: flight.FlightCallOptions(headers=[servers[name][0].authenticate_basic_token(b"admin", b"admin123")])
                   for name, _ in FLIGHTGATES}
        options["pyarrow"] = options["pyarrow-durable"] = flight.FlightCallOptions()
        with pa.memory_map(NUMBERS) as source:
            table = pa.ipc.open_stream(source).read_all()
        put_descriptors = {
            name: flight.FlightDescriptor.for_command(json.dumps({"dataset": f"bench_upload_{i}", "mode": "replace"}))
            for i, name in enumerate(servers)
        }
        put_descriptors["pyarrow"] = put_descriptors["pyarrow-durable"] = flight.FlightDescriptor.for_path("bench_upload")
        # One warm-up of each, not measured (page cache, JIT, connection set-up).
        # DoGet is the same for both references: only the in-memory one serves it.
        rpc_servers = {"doget": [s for s in servers if s != "pyarrow-durable"], "doput": list(servers)}
        for name in rpc_servers["doget"]:
            do_get(servers[name][0], options[name])

        def measure(rpc, run):
            names = rpc_servers[rpc]
            figures = {}
            for name in names[run % len(names):] + names[:run % len(names)]:
                client, pid = servers[name]
                c0, t0 = cpu_seconds(pid), time.perf_counter()
                nbytes, rows = do_get(client, options[name]) if rpc == "doget" else do_put(client, table, put_descriptors[name], options[name])
                elapsed = time.perf_counter() - t0
                used = cpu_seconds(pid) - c0
                figures[name] = nbytes / elapsed / 1e6
                figures[f"{name}:cpu"] = used / (nbytes / 1e9)
                emit(bench=rpc, server=name, run=run, rows=rows, mb=round(nbytes / 1e6, 1), seconds=round(elapsed, 3),
                     mb_per_s=round(figures[name], 1), server_cpu_s_per_gb=round(figures[f"{name}:cpu"], 3))
            return figures

        for rpc in ("doget", "doput"):
            references = ["pyarrow"] if rpc == "doget" else ["pyarrow", "pyarrow-durable"]
            rounds, counts = quiet_rounds(RUNS, lambda run: measure(rpc, run), references)
            cpu = lambda name: round(statistics.median(r[f"{name}:cpu"] for r in rounds), 3)
            for name, _ in FLIGHTGATES:
                for reference in references:
                    emit(bench=rpc, summary=True, server=name, reference=reference, **ratio_summary(rounds, counts, name, reference, "mb_per_s"),
                         flightgate_cpu_s_per_gb=cpu(name), **{f"{reference.replace('-', '_')}_cpu_s_per_gb": cpu(reference)})
    finally:
        for p in (ref, durable):
            p.terminate()
            p.wait()
        for f in os.listdir(durable_dir):
            os.remove(os.path.join(durable_dir, f))
        os.rmdir(durable_dir)


if __name__ == "__main__":
    main()
