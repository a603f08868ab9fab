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
