#!/usr/bin/env python3
"""PyTorch peer for bench/run.sh: the same workloads as tfc's benchmarks,
printed in the same row format (name, threads, figure, unit)."""
import os
import subprocess
import sys
import time

# One process per thread count: Debian's torch multiplies through the system
# BLAS (OpenBLAS), whose own threads torch.set_num_threads does not limit,
# so they are set before torch loads. OpenMP threads sleep rather than spin:
# PyTorch's best setting on 2 cores.
if len(sys.argv) > 1 and sys.argv[1].isdigit():
    os.environ["OPENBLAS_NUM_THREADS"] = sys.argv[1]
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch  # noqa: E402


def median_time(fn, iters, reps=7):
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(iters):
            fn()
        times.append((time.perf_counter() - start) / iters)
    times.sort()
    return times[len(times) // 2]


def scalar_chain(threads):
    torch.set_num_threads(threads)
    x = torch.tensor(1.0)

    def chain(v):
        for _ in range(10):
            v = v + 1.0
        return v

    # x is the traced function's input, as tfc's x is fed: a closure
    # constant would let the JIT fold the whole chain away
    traced = torch.jit.trace(chain, (x,))
    for _ in range(100):
        chain(x)
        traced(x)
    with torch.no_grad():
        e = median_time(lambda: chain(x), 20000)
        t = median_time(lambda: traced(x), 20000)
    print(f"session_run_10_scalar_adds\t{threads}\teager\t{e * 1e6:.3f}\tus/run")
    print(f"session_run_10_scalar_adds\t{threads}\ttraced\t{t * 1e6:.3f}\tus/run")


def matmul(n, threads):
    torch.set_num_threads(threads)
    a = torch.rand(n, n)
    b = torch.rand(n, n)
    iters = 200 if n <= 256 else 40 if n <= 512 else 6 if n <= 1024 else 2
    with torch.no_grad():
        t = median_time(lambda: torch.mm(a, b), iters, reps=5)
    print(f"matmul_{n}\t{threads}\ttorch\t{2 * n ** 3 / t * 1e-9:.1f}\tGFLOP/s")


def main():
    quick = "--quick" in sys.argv
    if len(sys.argv) > 1 and sys.argv[1].isdigit():
        threads = int(sys.argv[1])
        scalar_chain(threads)
        for n in (256, 512) if quick else (256, 512, 1024, 2048):
            matmul(n, threads)
        return
    for threads in (1, 2):
        subprocess.run([sys.executable, __file__, str(threads)] + sys.argv[1:], check=True)


if __name__ == "__main__":
    main()
