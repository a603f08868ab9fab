"""What the Python benchmarks share: a process's CPU time, and one JSON line per figure."""
import json
import os


def cpu_seconds(pid):
    """User and system CPU seconds a process has used, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def emit(**kw):
    print(json.dumps(kw), flush=True)


def write_upload_durably(reader, directory, name):
    """What a durable reference server does with a DoPut: the batches into an Arrow IPC stream
    file, fsynced, renamed into place as NAME.arrows, and the directory fsynced, before it answers."""
    import uuid

    import pyarrow as pa

    tmp = os.path.join(directory, f".{uuid.uuid4().hex}.arrows")
    with open(tmp, "wb") as f:
        with pa.ipc.new_stream(pa.PythonFile(f, mode="w"), reader.schema) as w:
            for chunk in reader:
                w.write_batch(chunk.data)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, os.path.join(directory, f"{name}.arrows"))
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# The machine is shared: a round in which the reference's own figure strays this far from its
# median measured something other than the servers, and is measured again.
QUIET_TOLERANCE = float(os.environ.get("BENCH_QUIET_TOLERANCE", "0.30"))


def quiet_rounds(runs, measure, references):
    """Measures `runs` rounds with `measure(run)`, which returns {server: figure} for one
    alternating round. A round in which any server named in `references` is more than
    QUIET_TOLERANCE from that server's median over the rounds is measured again (at most `runs`
    repeats in all); rounds still off after that are dropped. Returns (kept rounds, counts)."""
    import statistics

    rounds = [measure(run) for run in range(runs)]
    next_run = runs

    def noisy():
        medians = {ref: statistics.median(r[ref] for r in rounds) for ref in references}
        return [i for i, r in enumerate(rounds)
                if any(abs(r[ref] - medians[ref]) > QUIET_TOLERANCE * medians[ref] for ref in references)]

    repeated = 0
    while (off := noisy()) and repeated < runs:
        rounds[off[0]] = measure(next_run)
        next_run += 1
        repeated += 1
    off = set(noisy())
    kept = [r for i, r in enumerate(rounds) if i not in off] or rounds
    return kept, {"rounds_repeated": repeated, "rounds_dropped": len(rounds) - len(kept)}


def ratio_summary(rounds, counts, server, reference, unit, labels=("flightgate", None)):
    """The ratio of the medians, its per-round spread and the quiet-check counts, as summary fields
    named LABEL_UNIT (the labels default to "flightgate" and the reference's name)."""
    import statistics

    mine, ref = [r[server] for r in rounds], [r[reference] for r in rounds]
    ratios = [a / b for a, b in zip(mine, ref)]
    label, ref_label = labels[0], labels[1] or reference.replace("-", "_")
    return {f"{label}_{unit}": round(statistics.median(mine), 1), f"{ref_label}_{unit}": round(statistics.median(ref), 1),
            "ratio": round(statistics.median(mine) / statistics.median(ref), 3),
            "per_round_ratio_min": round(min(ratios), 3), "per_round_ratio_max": round(max(ratios), 3),
            "rounds": len(rounds), **counts}
