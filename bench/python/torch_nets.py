"""W2/W3 training and W4 inference for PyTorch (CPU), the same models, optimizer, batches and
timing rules as the JavaScript engines.
   python3 torch_nets.py mlp-train|cnn-train|inference '<plan json>'"""
import json
import statistics
import sys

import numpy as np
import torch
from torch import nn

from common import emit, load_mnist, now, openblas_core, step_throughput, time_calls


def build(arch):
    if arch == 'mlp':
        model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    else:
        # examples/mnist-cnn.ts's network. 'valid' 3x3 convolutions: 28 → 26 → 13 → 11 → 5, so
        # 64·5·5 = 1600 features. Keras's BatchNormalization: epsilon 1e-3, and its momentum 0.99
        # is the share of the old moving statistics, PyTorch's momentum the share of the new
        model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.BatchNorm2d(32, eps=1e-3, momentum=0.01), nn.MaxPool2d(2),
                              nn.Conv2d(32, 64, 3), nn.ReLU(), nn.BatchNorm2d(64, eps=1e-3, momentum=0.01), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10))
    # Keras's initializers (glorot_uniform kernels, zero biases), as kiln and TF.js use: the
    # accuracy target compares training, not PyTorch's different default initialization.
    # BatchNorm2d starts as Keras's does (scale 1, offset 0, moving mean 0, moving variance 1)
    for m in model:
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def shape(arch):
    # channels-first is PyTorch's own layout; the JavaScript engines use their own (channels-last)
    return (784,) if arch == 'mlp' else (1, 28, 28)


def train(arch, plan, folder):
    mlp = arch == 'mlp'
    batch, epoch_samples, steps = 128, 60000, (100 if mlp else 30)
    samples = min(steps * batch, epoch_samples) if plan['quick'] else epoch_samples
    label = f'{steps} steps (--quick), samples/s extrapolated' if plan['quick'] else '1 epoch'
    x, y, xt, yt = load_mnist(folder)
    x = torch.from_numpy(x[:samples]).reshape(-1, *shape(arch))
    y = torch.from_numpy(y[:samples])
    model = build(arch)
    # CrossEntropyLoss on logits is Keras's softmax + sparse categorical cross-entropy, fused
    loss_fn = nn.CrossEntropyLoss()
    # Keras's Adam epsilon (1e-7; PyTorch's default is 1e-8)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    order = torch.randperm(samples)
    stamps = []
    model.train()
    for start in range(0, samples, batch):
        stamps.append(now())
        idx = order[start:start + batch]
        opt.zero_grad()
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
    stamps.append(now())
    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(xt).reshape(-1, *shape(arch))).argmax(1).numpy()
    acc = float((pred == yt).mean()) * 100
    full = samples // batch
    rate, rates, per = step_throughput(stamps[:full + 1], batch)
    w = 'W2' if mlp else 'W3'
    note = f'{label}; {samples} samples, median of {len(rates) - 1} windows of {per} steps after 1 warm-up window; {stamps[-1] - stamps[0]:.1f} s wall'
    return [
        {'workload': w, 'engine': 'pytorch', 'case': 'samples/s', 'value': rate, 'runs': rates, 'note': note},
        {'workload': w, 'engine': 'pytorch', 'case': 'test acc %', 'value': acc,
         'note': f'after {steps} steps only' if plan['quick'] else 'after 1 epoch'},
    ]


def inference(plan):
    rows = []
    calls = 200 if plan['quick'] else 1000
    for arch in ('mlp', 'cnn'):
        # softmax included: the kiln and TF.js models end in a softmax layer
        model = nn.Sequential(build(arch), nn.Softmax(dim=1)).eval()
        with torch.inference_mode():
            one = torch.rand(1, *shape(arch))
            for _ in range(50):
                model(one)
            times = []
            for _ in range(calls):
                t = now()
                model(one)
                times.append((now() - t) * 1e6)
            rows.append({'workload': 'W4', 'engine': 'pytorch', 'case': f'{arch} b1 µs', 'value': statistics.median(times),
                         'note': f'median of {calls} calls after 50 warm-up calls'})
            many = torch.rand(256, *shape(arch))
            seconds, runs = time_calls(lambda: model(many), budget=1.0 if plan['quick'] else 2.0)
            rows.append({'workload': 'W4', 'engine': 'pytorch', 'case': f'{arch} b256 samples/s', 'value': 256 / seconds,
                         'runs': [256 / s for s in runs]})
    return rows


def main():
    workload, plan, folder = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
    torch.set_num_threads(plan['threads'])
    torch.manual_seed(1)
    np.random.seed(1)
    rows = inference(plan) if workload == 'inference' else train('mlp' if workload == 'mlp-train' else 'cnn', plan, folder)
    core = openblas_core()
    emit({'engine': 'pytorch', 'threads': torch.get_num_threads(), 'rows': rows,
          'info': f'torch {torch.__version__} ({sys.executable}), {torch.get_num_threads()} threads' + (f', OpenBLAS core {core}' if core else '')})


main()
