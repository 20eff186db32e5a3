"""W5 (LSTM) and W6 (transformer encoder) training for PyTorch (CPU): the models, data, optimizer
and timing rules of bench/engines/kiln.ts and bench/workloads/sequence.ts.
   python3 torch_seq.py lstm-train|transformer-train '<plan json>' <unused folder>"""
import json
import sys

import numpy as np
import torch
from torch import nn

from common import emit, now, openblas_core, step_throughput

TASKS = {
    'lstm': {'vocab': 1000, 'steps': 100, 'batch': 64, 'classes': 10},
    'transformer': {'vocab': 64, 'steps': 64, 'batch': 32, 'classes': 64},
}
HELD_OUT = 512


def sequences(arch, count, seed):
    """bench/sequences.ts sequenceBatch, number for number (glibc rand() constants, 31 bits)."""
    task = TASKS[arch]
    x = seed & 0xffffffff
    low = 1 if arch == 'transformer' else 0
    tokens = np.empty(count * task['steps'], dtype=np.int64)
    for i in range(tokens.size):
        x = (x * 1103515245 + 12345) & 0x7fffffff
        tokens[i] = low + (x >> 8) % (task['vocab'] - low)
    tokens = tokens.reshape(count, task['steps'])
    labels = tokens[:, -1] % 10 if arch == 'lstm' else tokens[:, ::-1].copy()
    return torch.from_numpy(tokens), torch.from_numpy(labels)


class LstmNet(nn.Module):
    """Embedding 64 → LSTM 128 → Dense 10 (logits; kiln's Dense has softmax, fused into its loss here)."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(1000, 64)
        self.lstm = nn.LSTM(64, 128, batch_first=True)
        self.out = nn.Linear(128, 10)

    def forward(self, x):
        seq, _ = self.lstm(self.embed(x))
        return self.out(seq[:, -1])


class Encoder(nn.Module):
    """Token and learned position embeddings (d 128), 2 post-norm encoder blocks (4 heads of 32,
    feed-forward 512 relu, Keras's LayerNormalization epsilon 1e-3, no dropout), Dense 64 per token."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(64, 128)
        self.position = nn.Parameter(torch.empty(64, 128).uniform_(-0.05, 0.05))
        block = nn.TransformerEncoderLayer(128, 4, 512, dropout=0.0, activation='relu', layer_norm_eps=1e-3, batch_first=True)
        self.blocks = nn.TransformerEncoder(block, 2, enable_nested_tensor=False)
        self.out = nn.Linear(128, 64)

    def forward(self, x):
        return self.out(self.blocks(self.embed(x) + self.position))


def train(arch, plan):
    task = TASKS[arch]
    steps = 20 if plan['quick'] else 60
    batch = task['batch']
    model = LstmNet() if arch == 'lstm' else Encoder()
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    x, y = sequences(arch, steps * batch, 1)
    stamps = []
    model.train()
    for s in range(steps):
        stamps.append(now())
        xb, yb = x[s * batch:(s + 1) * batch], y[s * batch:(s + 1) * batch]
        opt.zero_grad()
        logits = model(xb)
        loss = loss_fn(logits.reshape(-1, task['classes']), yb.reshape(-1))
        loss.backward()
        opt.step()
    stamps.append(now())
    model.eval()
    xt, yt = sequences(arch, HELD_OUT, 2)
    with torch.no_grad():
        acc = float((model(xt).argmax(-1) == yt).float().mean()) * 100
    rate, rates, per = step_throughput(stamps, batch)
    w = 'W5' if arch == 'lstm' else 'W6'
    note = f'{steps} steps of batch {batch}, median of {len(rates) - 1} windows of {per} steps after 1 warm-up window; {stamps[-1] - stamps[0]:.1f} s wall'
    return [
        {'workload': w, 'engine': 'pytorch', 'case': 'samples/s', 'value': rate, 'runs': rates, 'note': note},
        {'workload': w, 'engine': 'pytorch', 'case': 'held-out acc %', 'value': acc, 'note': f'after {steps} steps'},
    ]


def main():
    workload, plan = sys.argv[1], json.loads(sys.argv[2])
    torch.set_num_threads(plan['threads'])
    torch.manual_seed(1)
    rows = train('lstm' if workload == 'lstm-train' else 'transformer', plan)
    core = openblas_core()
    emit({'engine': 'pytorch', 'threads': torch.get_num_threads(), 'rows': rows,
          'info': f'torch {torch.__version__} ({sys.executable}), {torch.get_num_threads()} threads' + (f', OpenBLAS core {core}' if core else '')})


main()
