#!/usr/bin/env bash
# Runs the benchmarks and prints one table: workload, threads, tfc, peer, ratio.
# The peer is PyTorch (Debian's python3-torch, run with Debian's python3) where
# it has the same workload, else OpenBLAS called directly.
set -euo pipefail
build=${1:-build}
# OpenBLAS picks its kernels for this CPU: an OPENBLAS_CORETYPE in the
# environment (this workplace sets Haswell) would hold the peers to AVX2
# kernels at half the speed of their AVX-512 ones, and PyTorch would not be
# at its best. (tfc's large float products go to oneDNN, which ignores it.)
unset OPENBLAS_CORETYPE
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$build/bench/bench_core" > "$tmp/tfc.tsv"
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  /usr/bin/python3 "$here/peer_torch.py" > "$tmp/torch.tsv"
else
  echo "(python3-torch is not installed: apt-get install python3-torch for the PyTorch columns)" >&2
  : > "$tmp/torch.tsv"
fi
# Training rows: each (workload, threads) REPEAT times (default 3), tfc and
# PyTorch interleaved so that a slow spell of the machine hits both; the
# table shows medians.
have_torch=0
/usr/bin/python3 -c 'import torch' 2>/dev/null && have_torch=1
for rep in $(seq "${REPEAT:-3}"); do
  for work in softmax mlp cnn lstm; do
    for threads in 1 2; do
      "$build/bench/bench_train" "$work" "$threads" >> "$tmp/tfc.tsv"
      if [ "$have_torch" = 1 ]; then
        /usr/bin/python3 "$here/peer_torch_train.py" "$work" "$threads" >> "$tmp/torch.tsv"
      fi
    done
  done
done

# Synchronous data parallelism by allreduce (bench_allreduce, under mpirun;
# docs/SCALING.md): the allreduce op's bus bandwidth against a bare
# MPI_Allreduce in the same run, and training at 2 ranks x 1 thread against
# 1 rank x 2 threads (the ratio column; the goal is 0.9x).
if [ -x "$build/bench/bench_allreduce" ] && command -v mpirun > /dev/null; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  mpirun -np 2 "$build/bench/bench_allreduce" busbw | grep -v '^allreduce_latency' >> "$tmp/tfc.tsv"
  for work in mlp cnn; do
    one=$(mpirun -np 1 "$build/bench/bench_allreduce" train "$work" 2 | awk -F'\t' '$1 ~ /^allreduce_train_/ {print $3}')
    two=$(mpirun -np 2 "$build/bench/bench_allreduce" train "$work" 1 | awk -F'\t' '$1 ~ /^allreduce_train_/ {print $3}')
    printf 'allreduce_train_%s_2ranks\t1\t%s\t1 rank x 2 threads:%s\texamples/s\n' "$work" "$two" "$one" >> "$tmp/tfc.tsv"
  done
fi

# The parameter server's round trip (bench_ps, under mpirun;
# docs/DISTRIBUTED.md): a worker reading a ps variable of 4 B and 4 KiB,
# against a bare MPI ping-pong of the same bytes in the same run.
if [ -x "$build/bench/bench_ps" ] && command -v mpirun > /dev/null; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  mpirun -np 2 "$build/bench/bench_ps" >> "$tmp/tfc.tsv"
fi

/usr/bin/python3 - "$tmp/tfc.tsv" "$tmp/torch.tsv" <<'PY'
import sys
import statistics
# repeated rows (same name and threads) become their median
rows, order = {}, []
for l in open(sys.argv[1]):
    if l.strip():
        name, threads, value, cpeer, unit = l.rstrip("\n").split("\t")
        if (name, threads) not in rows:
            order.append((name, threads))
            rows[(name, threads)] = ([], [], unit)
        rows[(name, threads)][0].append(float(value))
        # the library peers bench_core measured: "kind:value,kind:value" or "-"
        for item in cpeer.split(",") if cpeer != "-" else []:
            kind, _, v = item.partition(":")
            rows[(name, threads)][1].append((kind, float(v)))
tfc = []
for key in order:
    values, cpeers, unit = rows[key]
    kinds = {}
    for kind, v in cpeers:
        kinds.setdefault(kind, []).append(v)
    cpeer = [(kind, statistics.median(vs)) for kind, vs in kinds.items()]
    tfc.append([key[0], key[1], str(statistics.median(values)), cpeer, unit])
samples = {}
for l in open(sys.argv[2]):
    if l.strip():
        name, threads, kind, value, unit = l.rstrip("\n").split("\t")
        samples.setdefault((name, threads, kind), []).append(float(value))
peer = {}
for (name, threads, kind), values in samples.items():
    peer.setdefault((name, threads), []).append((kind, statistics.median(values)))
lower_is_better = lambda unit: unit.startswith("us") or unit.startswith("MiB") or unit.startswith("s/")
print(f"{'workload':34} {'thr':>3} {'tfc':>10} {'peer':>24} {'ratio':>8}  unit")
for name, threads, value, cpeer, unit in tfc:
    v = float(value)
    rows = cpeer + peer.get((name, threads), [])
    if not rows:
        print(f"{name:34} {threads:>3} {v:10.3f} {'-':>24} {'-':>8}  {unit}")
    for kind, p in rows:
        ratio = (p / v) if lower_is_better(unit) else (v / p)
        print(f"{name:34} {threads:>3} {v:10.3f} {kind + ' ' + format(p, '.3f'):>24} {ratio:7.2f}x  {unit}")
print("ratio > 1 means tfc is better (faster, or less memory)")
PY
