"""
Server CPU per authenticated GetFlightInfo call, for comparing flightgate servers (two builds of
it, say) in one run: each NAME=URI,PID is logged into as the demo user1, then the servers take
turns, N calls each per round, and the CPU the server process used (/proc/PID/stat) is divided
by N. Prints one JSON line per round and a median per server.

usage: server_cpu_per_call.py NAME=URI,PID [NAME=URI,PID ...]   (env N, ROUNDS)
"""
import json, os, statistics, sys, time
import pyarrow.flight as flight
servers = dict(a.split('=', 1) for a in sys.argv[1:])  # name=uri,pid
TICK = os.sysconf('SC_CLK_TCK')
def cpu(pid):
    f = open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK
D = flight.FlightDescriptor.for_path('db1')
clients = {}
for name, v in servers.items():
    uri, pid = v.split(',')
    c = flight.FlightClient(uri)
    opts = flight.FlightCallOptions(headers=[c.authenticate_basic_token(b'user1', b'pass1')])
    for _ in range(500): c.get_flight_info(D, opts)
    clients[name] = (c, opts, int(pid))
N = int(os.environ.get('N', '6000'))
res = {n: [] for n in servers}
for r in range(int(os.environ.get('ROUNDS', '6'))):
    order = list(servers) if r % 2 == 0 else list(reversed(list(servers)))
    for name in order:
        c, opts, pid = clients[name]
        t0 = cpu(pid); w0 = time.perf_counter()
        for _ in range(N): c.get_flight_info(D, opts)
        dt = time.perf_counter() - w0
        us = (cpu(pid) - t0) * 1e6 / N
        res[name].append(us)
        print(json.dumps({'round': r, 'server': name, 'server_cpu_us_per_call': round(us, 1), 'calls_per_s': round(N / dt)}), flush=True)
for n, v in res.items():
    print(json.dumps({'summary': True, 'server': n, 'median_cpu_us_per_call': round(statistics.median(v), 1), 'min': round(min(v), 1), 'max': round(max(v), 1)}))
