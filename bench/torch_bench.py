#!/usr/bin/env python3
"""torch_bench.py WORKLOAD DATA_DIR — one of `make bench-compare`'s PyTorch
runs: the same network, optimizer, batch, sampling and test passes as the
badak command bench/bench.sh times, in PyTorch (Debian's python3-torch),
on the same number of threads. Prints one JSON line: seconds (the figure
bench.sh compares: per epoch, or the whole training), test_accuracy.
The whole process (Python and torch start-up, data loading) is timed by
the caller for the "whole command" rows, as it is for badak.

Workloads: ch5 mlp simple_convnet deep_convnet resnet eval mnist99 (see
WORKLOADS below). Not a test: a benchmark."""
import gzip
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def idx(path):
    """an IDX file (plain or .gz) as a numpy array"""
    for p in (path, path + ".gz"):
        if os.path.exists(p):
            with (gzip.open if p.endswith(".gz") else open)(p, "rb") as f:
                raw = f.read()
            nd = raw[3]
            dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
            return np.frombuffer(raw, np.uint8, offset=4 + 4 * nd).reshape(dims)
    sys.exit(f"torch_bench: {path}: not found")


def load(d):
    """MNIST-format data in d: x [N,1,28,28] in [0,1], labels int64"""
    def part(p):
        x = torch.from_numpy(idx(f"{d}/{p}-images-idx3-ubyte").astype(np.float32) / 255.0)
        y = torch.from_numpy(idx(f"{d}/{p}-labels-idx1-ubyte").astype(np.int64))
        return x.reshape(-1, 1, 28, 28), y
    return part("train") + part("t10k")


def he(model):
    """He initialisation of every conv / linear weight, zero biases (badak's
    --init he; the book's weight_init_std = 'relu')"""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return model


def accuracy(model, x, y, batch=100):
    model.eval()
    right = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            right += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    model.train()
    return right / len(x)


def epochs(model, opt, xtr, ytr, n, batch=100, sched=None):
    """n shuffled epochs of batch-`batch` steps (badak's default sampling)"""
    for _ in range(n):
        perm = torch.randperm(len(xtr))
        for i in range(0, len(xtr) - batch + 1, batch):
            j = perm[i:i + batch]
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(xtr[j]), ytr[j]).backward()
            opt.step()
            if sched:
                sched.step()


def convnet(*layers):
    return he(nn.Sequential(*layers))


def simple_convnet():  # book 7.5
    return convnet(nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                   nn.Linear(30 * 12 * 12, 100), nn.ReLU(), nn.Linear(100, 10))


def deep_convnet():  # book 8.1 (the second 32-filter conv has pad 2, as in the book)
    c = lambda i, o, p=1: [nn.Conv2d(i, o, 3, padding=p), nn.ReLU()]
    return convnet(*c(1, 16), *c(16, 16), nn.MaxPool2d(2), *c(16, 32), *c(32, 32, 2),
                   nn.MaxPool2d(2), *c(32, 64), *c(64, 64), nn.MaxPool2d(2), nn.Flatten(),
                   nn.Linear(64 * 4 * 4, 50), nn.ReLU(), nn.Dropout(0.5), nn.Linear(50, 10))


class Res(nn.Module):  # badak's resblock.c: conv-BN-ReLU-conv-BN + shortcut, ReLU
    def __init__(self, i, o, s):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(i, o, 3, s, 1, bias=False), nn.BatchNorm2d(o)
        self.c2, self.b2 = nn.Conv2d(o, o, 3, 1, 1, bias=False), nn.BatchNorm2d(o)
        self.p = None
        if s != 1 or i != o:
            self.p = nn.Sequential(nn.Conv2d(i, o, 1, s, bias=False), nn.BatchNorm2d(o))

    def forward(self, x):
        a = self.b2(self.c2(F.relu(self.b1(self.c1(x)))))
        return F.relu(a + (self.p(x) if self.p else x))


def resnet():
    return convnet(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                   Res(16, 16, 1), Res(16, 16, 1), Res(16, 32, 2), Res(32, 32, 1),
                   Res(32, 64, 2), Res(64, 64, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                   nn.Linear(64, 10))


def mnist99():  # examples/mnist99.ini
    return convnet(nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3),
                   nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(800, 128), nn.ReLU(),
                   nn.Linear(128, 10))


def run_ch5(d):
    """badak train's defaults (book 5.7.4): TwoLayerNet 784-50-10,
    Affine-ReLU-Affine, std 0.01, SGD 0.1, 10000 steps of 100 drawn with
    replacement, train and test accuracy every 600 steps"""
    xtr, ytr, xte, yte = load(d)
    xtr, xte = xtr.reshape(-1, 784), xte.reshape(-1, 784)
    model = nn.Sequential(nn.Linear(784, 50), nn.ReLU(), nn.Linear(50, 10))
    for m in model:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.01)
            nn.init.zeros_(m.bias)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    t0 = time.perf_counter()
    for it in range(10000):
        j = torch.randint(len(xtr), (100,))
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(xtr[j]), ytr[j]).backward()
        opt.step()
        if it % 600 == 0:
            accuracy(model, xtr, ytr, 10000)
            acc = accuracy(model, xte, yte, 10000)
    return time.perf_counter() - t0, acc


def run_epochs(d, make, n, lr=0.001, flat=False):
    """n epochs, Adam, batch 100, the test set after each; seconds per epoch"""
    xtr, ytr, xte, yte = load(d)
    if flat:
        xtr, xte = xtr.reshape(-1, 784), xte.reshape(-1, 784)
    model = make()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    t0 = time.perf_counter()
    for _ in range(n):
        epochs(model, opt, xtr, ytr, 1)
        acc = accuracy(model, xte, yte)
    return (time.perf_counter() - t0) / n, acc


def run_mlp(d):
    def make():
        L = []
        for i, o in zip([784] + [100] * 5, [100] * 5):
            L += [nn.Linear(i, o), nn.ReLU()]
        return he(nn.Sequential(*L, nn.Linear(100, 10)))
    return run_epochs(d, make, 3, flat=True)


def run_eval(d):
    """inference of a (freshly initialised) simple_convnet on the 10000 test
    images; the whole process is what is compared"""
    _, _, xte, yte = load(d)
    model = simple_convnet()
    t0 = time.perf_counter()
    acc = accuracy(model, xte, yte, 1000)
    return time.perf_counter() - t0, acc


def run_mnist99(d):
    """examples/mnist99.ini (keep in step with its [train] section): Adam,
    one-cycle (20% warm-up from lr/25 to 0.005, then a half cosine to 0, per
    step), 2 epochs of 100, the test set after each"""
    xtr, ytr, xte, yte = load(d)
    model = mnist99()
    n_epochs, peak = 2, 0.005
    opt = torch.optim.Adam(model.parameters(), lr=peak)
    steps = n_epochs * (len(xtr) // 100)
    warm = 0.2 * steps
    def rate(s):
        if s < warm:
            return 1 / 25 + (1 - 1 / 25) * s / warm
        return 0.5 * (1 + math.cos(math.pi * (s - warm) / (steps - warm)))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, rate)
    t0 = time.perf_counter()
    for _ in range(n_epochs):
        epochs(model, opt, xtr, ytr, 1, sched=sched)
        acc = accuracy(model, xte, yte)
    return time.perf_counter() - t0, acc


WORKLOADS = {
    "ch5": lambda d: run_ch5(d),
    "mlp": run_mlp,
    "simple_convnet": lambda d: run_epochs(d, simple_convnet, 1),
    "deep_convnet": lambda d: run_epochs(d, deep_convnet, 1),
    "resnet": lambda d: run_epochs(d, resnet, 1),
    "eval": run_eval,
    "mnist99": run_mnist99,
}

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in WORKLOADS:
        sys.exit("usage: torch_bench.py {%s} DATA_DIR" % ",".join(WORKLOADS))
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", os.cpu_count() or 1)))
    torch.manual_seed(1)
    s, acc = WORKLOADS[sys.argv[1]](sys.argv[2])
    print(json.dumps({"workload": sys.argv[1], "seconds": round(s, 3),
                      "test_accuracy": round(acc, 4)}))
