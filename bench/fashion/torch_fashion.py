# The PyTorch side of bench/fashion: the same four models as the .nn files next to this
# script, trained with the same protocol (seed 0, batch 64, Adam lr 1e-3, cross entropy,
# test accuracy after each epoch), one JSON line per event on stdout so that run.ts
# timestamps them as they arrive, exactly as it does `nn train --json`.
# Run: python3 torch_fashion.py MODEL DATA_DIR TRAIN TEST EPOCHS THREADS

import gzip
import json
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, 10)

    def forward(self, x):
        h = F.relu(self.fc1(torch.flatten(x, 1)))
        h = F.relu(self.fc2(h))
        return self.fc3(h)


class SmallCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3)
        self.conv2 = nn.Conv2d(8, 16, 3)
        self.fc = nn.Linear(16 * 5 * 5, 10)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.conv1(x)), 2)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        return self.fc(torch.flatten(h, 1))


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        h = F.avg_pool2d(torch.tanh(self.conv1(x)), 2)
        h = F.avg_pool2d(torch.tanh(self.conv2(h)), 2)
        h = torch.tanh(self.fc1(torch.flatten(h, 1)))
        h = torch.tanh(self.fc2(h))
        return self.fc3(h)


class Net(nn.Module):
    """PyTorch's MNIST example (examples/mnist/main.py), its log_softmax folded into the loss."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        h = F.relu(self.conv1(x))
        h = F.relu(self.conv2(h))
        h = self.dropout1(F.max_pool2d(h, 2))
        h = self.dropout2(F.relu(self.fc1(torch.flatten(h, 1))))
        return self.fc2(h)


MODELS = {"Mlp": Mlp, "SmallCnn": SmallCnn, "LeNet5": LeNet5, "Net": Net}


def read_idx(path, count):
    with gzip.open(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(rank)]
    values = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)
    return values[:count]


def emit(event):
    print(json.dumps(event), flush=True)


def main():
    name, data_dir, train_count, test_count, epochs, threads = sys.argv[1:7]
    torch.set_num_threads(int(threads))
    torch.manual_seed(0)
    x_train = torch.from_numpy(read_idx(f"{data_dir}/train-images-idx3-ubyte.gz", int(train_count)).astype(np.float32) / 255).reshape(-1, 1, 28, 28)
    y_train = torch.from_numpy(read_idx(f"{data_dir}/train-labels-idx1-ubyte.gz", int(train_count)).astype(np.int64))
    x_test = torch.from_numpy(read_idx(f"{data_dir}/t10k-images-idx3-ubyte.gz", int(test_count)).astype(np.float32) / 255).reshape(-1, 1, 28, 28)
    y_test = torch.from_numpy(read_idx(f"{data_dir}/t10k-labels-idx1-ubyte.gz", int(test_count)).astype(np.int64))
    model = MODELS[name]()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    params = sum(p.numel() for p in model.parameters())
    steps = (len(x_train) + 63) // 64
    emit({"type": "start", "model": name, "params": params, "stepsPerEpoch": steps, "threads": torch.get_num_threads()})
    generator = torch.Generator().manual_seed(0)
    for epoch in range(int(epochs)):
        model.train()
        order = torch.randperm(len(x_train), generator=generator)
        loss_sum = 0.0
        for start in range(0, len(x_train), 64):
            batch = order[start : start + 64]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x_train[batch]), y_train[batch])
            loss.backward()
            optimizer.step()
            loss_sum += loss.item()
        model.eval()
        correct = 0
        with torch.no_grad():
            for start in range(0, len(x_test), 1000):
                logits = model(x_test[start : start + 1000])
                correct += (logits.argmax(1) == y_test[start : start + 1000]).sum().item()
        emit({"type": "epoch", "epoch": epoch, "trainLoss": loss_sum / steps, "testAccuracy": correct / len(x_test)})
    emit({"type": "end"})


main()
