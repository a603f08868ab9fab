"""DoGet a large dataset batch by batch without keeping it, sampling the server's RSS."""
import json, sys, threading, time
import pyarrow.flight as flight

uri, pid, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def rss_mb():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024


samples = [rss_mb()]
done = False


def sample():
    while not done:
        samples.append(rss_mb())
        time.sleep(0.05)


t = threading.Thread(target=sample)
t.start()
client = flight.FlightClient(uri)
# The bench user that scripts/bench-rss.sh creates.
options = flight.FlightCallOptions(headers=[client.authenticate_basic_token(b"bench", b"bench-password")])
start = time.perf_counter()
nbytes = rows = 0
for chunk in client.do_get(flight.Ticket(name.encode()), options):
    nbytes += chunk.data.nbytes
    rows += chunk.data.num_rows
elapsed = time.perf_counter() - start
done = True
t.join()
print(json.dumps({"bench": "large_file_doget", "rows": rows, "gb": round(nbytes / 1e9, 2), "seconds": round(elapsed, 2),
                  "mb_per_s": round(nbytes / elapsed / 1e6), "server_rss_before_mb": round(samples[0]),
                  "server_rss_peak_mb": round(max(samples)), "server_rss_after_mb": round(rss_mb())}))
