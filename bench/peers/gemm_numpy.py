"""numpy (Debian OpenBLAS) GEMM GFLOP/s at the given sizes; prints one JSON line."""
import json, sys, time
import numpy as np

sizes = [int(s) for s in sys.argv[1:]] or [256, 512, 1024]
out = {}
for n in sizes:
    a = np.random.rand(n, n).astype(np.float32)
    b = np.random.rand(n, n).astype(np.float32)
    c = a @ b
    reps = max(3, int(2e9 / (2 * n ** 3)))
    best = 1e9
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(reps):
            np.matmul(a, b, out=c)
        best = min(best, (time.perf_counter() - t) / reps)
    out[str(n)] = 2 * n ** 3 / best / 1e9
print(json.dumps(out))
