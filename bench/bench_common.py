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
