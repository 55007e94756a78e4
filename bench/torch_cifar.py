#!/usr/bin/env python3
"""torch_cifar.py MODEL DATA_DIR [STEPS] — seed 002's CIFAR-10 networks in
PyTorch (Debian's python3-torch), timed the way bench/bench_cifar.sh times
badak's presets: the same network, Adam (lr 0.001), batch, shuffled
epochs and thread count, on the same CIFAR-10 binary files.

MODEL: cnn (seed 002's CNN, badak's tobigs_cnn; batch 100) or resnet18
(seed 002's ResNet(ConvBlock, [2,2,2,2]), badak's resnet18; batch 50).
STEPS: 0 (default) one whole epoch and the 10,000-image test pass, as
`badak train --epochs 1 --no-train-acc`; N > 0: N training steps only,
and the epoch extrapolated from them (said so in the output).
Threads: $BADAK_TORCH_THREADS (default 2). Prints one JSON line.
Not a test: a benchmark."""
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def cifar(d, names):
    """CIFAR-10 binary records (1 label byte, 3072 pixel bytes: R, G, B
    planes of 32x32) -> x [N,3,32,32] in [0,1], labels int64"""
    raw = np.concatenate([np.fromfile(os.path.join(d, n), np.uint8) for n in names])
    if raw.size % 3073:
        sys.exit(f"torch_cifar: {d}: not whole 3073-byte records")
    rec = raw.reshape(-1, 3073)
    x = torch.from_numpy(rec[:, 1:].astype(np.float32) / 255.0).reshape(-1, 3, 32, 32)
    return x, torch.from_numpy(rec[:, 0].astype(np.int64))


class CNN(nn.Module):
    """seed 002's CNN: (conv 5x5 pad 2 - BN - LeakyReLU) x 2 - max-pool, at
    16 and 32 channels, then Linear(8*8*32, classes)"""

    def __init__(self, classes=10):
        super().__init__()

        def block(cin, cout):
            return nn.Sequential(
                nn.Conv2d(cin, cout, 5, 1, 2), nn.BatchNorm2d(cout, momentum=0.1), nn.LeakyReLU(),
                nn.Conv2d(cout, cout, 5, 1, 2), nn.BatchNorm2d(cout, momentum=0.1), nn.LeakyReLU(),
                nn.MaxPool2d(2, 2))
        self.layer1 = block(3, 16)
        self.layer2 = block(16, 32)
        self.fc = nn.Linear(8 * 8 * 32, classes)

    def forward(self, x):
        out = self.layer2(self.layer1(x))
        return self.fc(out.reshape(out.size(0), -1))


class ConvBlock(nn.Module):
    """the basic residual block: 3x3 conv - BN - ReLU - 3x3 conv - BN, plus
    the input (a 1x1 conv + BN when the shape changes), ReLU"""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    """seed 002's ResNet(ConvBlock, [2, 2, 2, 2]) for 32x32 colour input;
    each block takes the previous block's channels (torchvision's and the
    paper's wiring; see docs/data.md on the notes' MakeLayer)"""

    def __init__(self, num_blocks=(2, 2, 2, 2), classes=10):
        super().__init__()
        self.cin = 64
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.layers = nn.Sequential(*[self.stage(c, n, s) for c, n, s in
                                      zip((64, 128, 256, 512), num_blocks, (1, 2, 2, 2))])
        self.linear = nn.Linear(512, classes)

    def stage(self, cout, n, stride):
        blocks = []
        for s in [stride] + [1] * (n - 1):
            blocks.append(ConvBlock(self.cin, cout, s))
            self.cin = cout
        return nn.Sequential(*blocks)

    def forward(self, x):
        out = self.layers(F.relu(self.bn1(self.conv1(x))))
        out = F.avg_pool2d(out, 4)
        return self.linear(out.reshape(out.size(0), -1))


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("cnn", "resnet18"):
        sys.exit(__doc__)
    name, d = sys.argv[1], sys.argv[2]
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    threads = int(os.environ.get("BADAK_TORCH_THREADS", "2"))
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    batch = 100 if name == "cnn" else 50
    t0 = time.perf_counter()
    xtr, ytr = cifar(d, [f"data_batch_{b}.bin" for b in range(1, 6)])
    xte, yte = cifar(d, ["test_batch.bin"])
    t_load = time.perf_counter() - t0
    model = CNN() if name == "cnn" else ResNet()
    opt = torch.optim.Adam(model.parameters(), lr=0.001)
    per_epoch = len(xtr) // batch
    todo = steps if steps > 0 else per_epoch
    perm = torch.randperm(len(xtr))
    model.train()
    c0, t1 = time.process_time(), time.perf_counter()
    for i in range(todo):
        j = perm[(i % per_epoch) * batch:(i % per_epoch + 1) * batch]
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(xtr[j]), ytr[j]).backward()
        opt.step()
    train_s, train_cpu = time.perf_counter() - t1, time.process_time() - c0
    test_s, acc = 0.0, -1.0
    if steps == 0:  # the epoch's test pass, as badak train measures it
        t2 = time.perf_counter()
        model.eval()
        right = 0
        with torch.no_grad():
            for i in range(0, len(xte), batch):
                right += (model(xte[i:i + batch]).argmax(1) == yte[i:i + batch]).sum().item()
        test_s, acc = time.perf_counter() - t2, right / len(xte)
    out = {"model": name, "torch": torch.__version__, "threads": threads, "batch": batch,
           "steps": todo, "load_seconds": round(t_load, 2), "train_seconds": round(train_s, 2),
           "train_cpu_seconds": round(train_cpu, 2), "test_seconds": round(test_s, 2),
           "test_accuracy": acc,
           "epoch_seconds": round(train_s * per_epoch / todo + test_s, 1),
           "epoch_extrapolated": steps > 0}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
