#!/usr/bin/env python3
"""PyTorch peer of bench_train.c: the same models, batch sizes and
optimizers (Fashion-MNIST; for lstm a synthetic token stream), one process
per (workload, threads) so the peak resident memory is the workload's own.
Rows: name, threads, kind, value, unit."""
import gzip
import os
import resource
import subprocess
import sys
import time

DATA = os.environ.get("TFC_MNIST_DIR", "/usr/share/datasets/fashion-mnist")


def load():
    import numpy as np
    import torch
    with gzip.open(os.path.join(DATA, "train-images-idx3-ubyte.gz")) as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
    with gzip.open(os.path.join(DATA, "train-labels-idx1-ubyte.gz")) as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    return torch.from_numpy(x.astype(np.float32) / 255.0), torch.from_numpy(y.astype(np.int64))


# The LSTM language model of bench_train.c's run_lstm (PTB "small"): the same
# Zipf(1) token stream, sizes, loss, SGD at 1.0, state carried between steps,
# no gradient clipping. nn.LSTM (two layers in one module) is torch's fastest
# LSTM on CPU. An example is one sequence of LSTM_STEPS tokens.
LSTM_VOCAB, LSTM_UNITS, LSTM_STEPS, LSTM_BATCH, LSTM_TOKENS = 10000, 200, 20, 20, 100000


def zipf_tokens(n):
    import bisect
    mask = (1 << 64) - 1
    cdf, z = [], 0.0
    for k in range(LSTM_VOCAB):
        z += 1.0 / (k + 1)
        cdf.append(z)
    seed, out = 1, []
    for _ in range(n):  # splitmix64, as bench_train.c
        seed = (seed + 0x9E3779B97F4A7C15) & mask
        r = seed
        r = ((r ^ (r >> 30)) * 0xBF58476D1CE4E5B9) & mask
        r = ((r ^ (r >> 27)) * 0x94D049BB133111EB) & mask
        r ^= r >> 31
        out.append(min(bisect.bisect_right(cdf, (r >> 11) / 9007199254740992.0 * z), LSTM_VOCAB - 1))
    return out


class LstmLM:
    def __init__(self):
        import torch.nn as nn
        self.embedding = nn.Embedding(LSTM_VOCAB, LSTM_UNITS)
        self.lstm = nn.LSTM(LSTM_UNITS, LSTM_UNITS, num_layers=2, batch_first=True)
        self.out = nn.Linear(LSTM_UNITS, LSTM_VOCAB)
        self.modules = [self.embedding, self.lstm, self.out]
        for m in self.modules:
            for p in m.parameters():
                nn.init.uniform_(p, -0.1, 0.1)

    def parameters(self):
        return [p for m in self.modules for p in m.parameters()]


def run_lstm(threads):
    import torch
    import torch.nn as nn
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    text = torch.tensor(zipf_tokens(LSTM_TOKENS), dtype=torch.int64)
    row_len = LSTM_TOKENS // LSTM_BATCH
    rows = text[:row_len * LSTM_BATCH].view(LSTM_BATCH, row_len)
    per_epoch = (row_len - 1) // LSTM_STEPS
    m = LstmLM()
    opt = torch.optim.SGD(m.parameters(), lr=1.0)
    loss_fn = nn.CrossEntropyLoss()
    state = tuple(torch.zeros(2, LSTM_BATCH, LSTM_UNITS) for _ in range(2))
    steps = 60
    warmup = steps // 10 + 1
    start, first, last = 0.0, 0.0, 0.0
    for i in range(warmup + steps):
        if i == warmup:
            start, cpu0 = time.perf_counter(), time.process_time()
        at = (i % per_epoch) * LSTM_STEPS
        x = rows[:, at:at + LSTM_STEPS]
        y = rows[:, at + 1:at + 1 + LSTM_STEPS]
        opt.zero_grad()
        h, state = m.lstm(m.embedding(x), state)
        state = tuple(s.detach() for s in state)
        loss = loss_fn(m.out(h.reshape(-1, LSTM_UNITS)), y.reshape(-1))
        loss.backward()
        opt.step()
        last = loss.item()
        if i == 0:
            first = last
    dt, dc = time.perf_counter() - start, time.process_time() - cpu0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"lstm: loss {first:.3f} -> {last:.3f}", file=sys.stderr)
    # as bench_train's line: on a shared machine the CPU time of a 1-thread
    # run tracks what an idle machine's wall clock would show
    print(f"lstm: {steps * LSTM_BATCH / dc:.1f} examples per CPU-second ({threads} threads, torch)",
          file=sys.stderr)
    print(f"train_lstm\t{threads}\ttorch\t{steps * LSTM_BATCH / dt:.1f}\texamples/s")
    print(f"peak_rss_lstm\t{threads}\ttorch\t{rss:.1f}\tMiB")


def run(work, threads):
    # Before torch loads: this torch calls OpenBLAS (libopenblasp), whose own
    # threads torch.set_num_threads does not limit (a "1-thread" run used 2
    # cores); OpenMP threads that sleep rather than spin while waiting
    # (spinning made 2 threads ~6x slower on 2 cores): its best here.
    os.environ["OPENBLAS_NUM_THREADS"] = str(threads)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch
    import torch.nn as nn
    if work == "lstm":
        run_lstm(threads)
        return
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    x, y = load()
    if work == "softmax":
        model, batch, steps = nn.Linear(784, 10), 100, 6000
        opt = torch.optim.SGD(model.parameters(), lr=0.5)
    elif work == "mlp":
        model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                              nn.Linear(256, 10))
        batch, steps = 100, 1000
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
    else:
        model = nn.Sequential(
            nn.Unflatten(1, (1, 28, 28)),
            nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(7 * 7 * 64, 1024), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(1024, 10))
        batch, steps = 50, 40
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    loss_fn = nn.CrossEntropyLoss()
    perm = torch.randperm(x.shape[0])
    warmup = steps // 10 + 1
    start = 0.0
    for i in range(warmup + steps):
        if i == warmup:
            start, cpu0 = time.perf_counter(), time.process_time()
        idx = perm[(i * batch) % 60000:(i * batch) % 60000 + batch]
        opt.zero_grad()
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
    dt, dc = time.perf_counter() - start, time.process_time() - cpu0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"{work}: {steps * batch / dc:.1f} examples per CPU-second ({threads} threads, torch)",
          file=sys.stderr)
    print(f"train_{work}\t{threads}\ttorch\t{steps * batch / dt:.1f}\texamples/s")
    print(f"peak_rss_{work}\t{threads}\ttorch\t{rss:.1f}\tMiB")


def main():
    if len(sys.argv) == 3:
        run(sys.argv[1], int(sys.argv[2]))
        return
    for work in ("softmax", "mlp", "cnn", "lstm"):
        for threads in (1, 2):
            sys.stdout.flush()
            subprocess.run([sys.executable, __file__, work, str(threads)], check=True)


if __name__ == "__main__":
    main()
