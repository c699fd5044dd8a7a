# The PyTorch side of bench/tiny_gpt: the module `nn export --format pytorch` wrote for
# examples/tiny_gpt.nn, trained with the .nn file's protocol (the text's windows of 64
# characters every 8, the last 10% as the test split, AdamW lr 0.003 weight decay 0.01,
# batch 32, 10 epochs, shuffled), one JSON line per epoch on stdout.
# Run: python3 torch_tiny_gpt.py MODULE.py TEXT EPOCHS THREADS

import importlib.util
import json
import sys
import time

import torch
import torch.nn.functional as F

module_path, text_path, epochs, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
torch.manual_seed(0)
spec = importlib.util.spec_from_file_location("tiny_gpt", module_path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
model = module.load_model()

text = open(text_path, encoding="utf-8").read()
chars = sorted(set(text))
ids = torch.tensor([chars.index(c) for c in text], dtype=torch.int64)
block, stride = 64, 8
cut = round(len(ids) * 0.9)


def windows(part):
    starts = range(0, len(part) - block, stride)
    return torch.stack([part[s:s + block] for s in starts]), torch.stack([part[s + 1:s + block + 1] for s in starts])


train_x, train_y = windows(ids[:cut])
test_x, test_y = windows(ids[cut:])
opt = torch.optim.AdamW(model.parameters(), lr=0.003, weight_decay=0.01)
start = time.perf_counter()
for epoch in range(epochs):
    model.train()
    order = torch.randperm(len(train_x))
    total = 0.0
    for b in range(0, len(order), 32):
        x, y = train_x[order[b:b + 32]], train_y[order[b:b + 32]]
        out = model(x)
        loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(x)
    model.eval()
    with torch.no_grad():
        out = model(test_x)
        test = F.cross_entropy(out.reshape(-1, out.shape[-1]), test_y.reshape(-1)).item()
    print(json.dumps({"epoch": epoch + 1, "seconds": time.perf_counter() - start, "trainLoss": total / len(train_x), "testLoss": test}), flush=True)
