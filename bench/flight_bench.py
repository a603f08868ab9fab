"""
DoGet and DoPut of the 10M-row numbers dataset with the pyarrow Flight client, against
flightgate and against a pyarrow Flight server holding the same data, alternating, in one run.
Prints one JSON line per measurement and a summary line per RPC and flightgate server with the
flightgate/pyarrow ratio. DoPut has a second reference: the pyarrow server writing each upload to
an Arrow IPC stream file and fsyncing it before it answers (`pyarrow-durable`), the durability
flightgate promises.

usage: flight_bench.py NUMBERS_FILE NAME=URI,PID [NAME=URI,PID ...]
"""
import json, os, statistics, subprocess, sys, tempfile, time
import pyarrow as pa
import pyarrow.flight as flight
from bench_common import cpu_seconds, emit

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
        results = {("doget", s): [] for s in servers} | {("doput", s): [] for s in servers}
        cpu = {k: 0.0 for k in results}
        # One warm-up of each, not measured (page cache, JIT, connection set-up).
        # DoGet is the same for both references: only the in-memory one serves it.
        rpc_servers = {"doget": [s for s in servers if s != "pyarrow-durable"], "doput": list(servers)}
        for name in rpc_servers["doget"]:
            do_get(servers[name][0], options[name])
        for run in range(RUNS):
            for rpc in ("doget", "doput"):
                names = rpc_servers[rpc]
                order = names[run % len(names):] + names[:run % len(names)]
                for name in order:
                    client, pid = servers[name]
                    c0, t0 = cpu_seconds(pid), time.perf_counter()
                    nbytes, rows = do_get(client, options[name]) if rpc == "doget" else do_put(client, table, put_descriptors[name], options[name])
                    elapsed = time.perf_counter() - t0
                    used = cpu_seconds(pid) - c0
                    mbs = nbytes / elapsed / 1e6
                    results[(rpc, name)].append(mbs)
                    cpu[(rpc, name)] += used / (nbytes / 1e9)
                    emit(bench=rpc, server=name, run=run, rows=rows, mb=round(nbytes / 1e6, 1), seconds=round(elapsed, 3),
                         mb_per_s=round(mbs, 1), server_cpu_s_per_gb=round(used / (nbytes / 1e9), 3))
        for rpc in ("doget", "doput"):
            for name, _ in FLIGHTGATES:
                fg, py = results[(rpc, name)], results[(rpc, "pyarrow")]
                ratios = [a / b for a, b in zip(fg, py)]
                emit(bench=rpc, summary=True, server=name, runs=RUNS,
                     flightgate_mb_per_s=round(statistics.median(fg), 1), pyarrow_mb_per_s=round(statistics.median(py), 1),
                     ratio=round(statistics.median(fg) / statistics.median(py), 3),
                     per_round_ratio_min=round(min(ratios), 3), per_round_ratio_max=round(max(ratios), 3),
                     flightgate_cpu_s_per_gb=round(cpu[(rpc, name)] / RUNS, 3),
                     pyarrow_cpu_s_per_gb=round(cpu[(rpc, "pyarrow")] / RUNS, 3))
                if rpc == "doput":
                    dur = results[(rpc, "pyarrow-durable")]
                    ratios = [a / b for a, b in zip(fg, dur)]
                    emit(bench=rpc, summary=True, server=name, reference="pyarrow-durable", runs=RUNS,
                         flightgate_mb_per_s=round(statistics.median(fg), 1), pyarrow_durable_mb_per_s=round(statistics.median(dur), 1),
                         ratio=round(statistics.median(fg) / statistics.median(dur), 3),
                         per_round_ratio_min=round(min(ratios), 3), per_round_ratio_max=round(max(ratios), 3),
                         flightgate_cpu_s_per_gb=round(cpu[(rpc, name)] / RUNS, 3),
                         pyarrow_durable_cpu_s_per_gb=round(cpu[(rpc, "pyarrow-durable")] / RUNS, 3))
    finally:
        for p in (ref, durable):
            p.terminate()
            p.wait()
        for f in os.listdir(durable_dir):
            os.remove(os.path.join(durable_dir, f))
        os.rmdir(durable_dir)


if __name__ == "__main__":
    main()
