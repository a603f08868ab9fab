"""Calls per second over several threads, each with its own pyarrow client: shared by the benches."""
import threading
import time


def calls_per_second(sessions, call, seconds):
    """Runs `call(client, options)` in a loop on one thread per (client, options) pair for
    `seconds`, then closes the clients; returns the calls per second of all threads together."""
    counts = [0] * len(sessions)
    stop = time.perf_counter() + seconds

    def work(i):
        client, options = sessions[i]
        n = 0
        while time.perf_counter() < stop:
            call(client, options)
            n += 1
        counts[i] = n

    workers = [threading.Thread(target=work, args=(i,)) for i in range(len(sessions))]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    for client, _ in sessions:
        client.close()
    return sum(counts) / elapsed
