"""W1 for PyTorch (torch.mm) or NumPy (np.matmul): float32 n×n SGEMM in GFLOPS.
   python3 gemm.py torch|numpy '<plan json>'"""
import json
import sys

from common import emit, openblas_core, time_calls

SIZES = [256, 512, 1024, 2048]


def main():
    which, plan = sys.argv[1], json.loads(sys.argv[2])
    import numpy as np
    rng = np.random.default_rng(1)
    if which == 'torch':
        import torch
        torch.set_num_threads(plan['threads'])
        name, info = 'pytorch', f'torch {torch.__version__} ({sys.executable}), {torch.get_num_threads()} threads'
        threads = torch.get_num_threads()
    else:
        name, info, threads = f'numpy {np.__version__}', f'numpy {np.__version__} ({sys.executable})', plan['threads']
    rows = []
    for n in SIZES:
        a = rng.random((n, n), dtype=np.float32)
        b = rng.random((n, n), dtype=np.float32)
        if which == 'torch':
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            call = lambda: torch.mm(ta, tb)
        else:
            call = lambda: np.matmul(a, b)
        # a wrong-kernel OpenBLAS can return garbage fast: check a few rows against float64
        got = np.asarray(call())[:4]
        want = a[:4].astype(np.float64) @ b.astype(np.float64)
        if not np.allclose(got, want, rtol=1e-3, atol=1e-3):
            rows.append({'workload': 'W1', 'engine': name, 'case': f'n={n}', 'value': None, 'missing': 'wrong result'})
            continue
        seconds, runs = time_calls(call, budget=1.0 if plan['quick'] else 3.0)
        flops = 2 * n ** 3
        rows.append({'workload': 'W1', 'engine': name, 'case': f'n={n}', 'value': flops / seconds / 1e9,
                     'runs': [flops / s / 1e9 for s in runs]})
    core = openblas_core()
    emit({'engine': name, 'threads': threads, 'info': info + (f', OpenBLAS core {core}' if core else ''), 'rows': rows})


main()
