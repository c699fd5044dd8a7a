# Computes PyTorch reference results for test/engine/torch-parity.test.ts.
# Reads the cases (inputs as flat lists with shapes) from the JSON file argv[1] and prints
# the results as JSON. Everything runs in float32, PyTorch's default.
import json
import sys

import torch
import torch.nn.functional as F


def t(spec, grad=False):
    return torch.tensor(spec["data"], dtype=torch.float32).reshape(spec["shape"]).requires_grad_(grad)


def flat(x):
    return x.detach().reshape(-1).tolist()


def conv2d(case):
    x, w, b = t(case["x"], True), t(case["w"], True), t(case["b"], True)
    y = F.conv2d(x, w, b, stride=case["stride"], padding=case["padding"])
    y.backward(t(case["g"]))
    return {"y": flat(y), "dx": flat(x.grad), "dw": flat(w.grad), "db": flat(b.grad)}


def batch_norm(case):
    x, w, b = t(case["x"], True), t(case["w"], True), t(case["b"], True)
    channels = case["w"]["shape"][0]
    layer = (torch.nn.BatchNorm2d if len(case["x"]["shape"]) == 4 else torch.nn.BatchNorm1d)(channels)
    with torch.no_grad():
        layer.weight.copy_(w)
        layer.bias.copy_(b)
    y = layer(x)
    y.backward(t(case["g"]))
    layer.eval()
    y_eval = layer(t(case["x"]))
    return {
        "y": flat(y), "dx": flat(x.grad), "dw": flat(layer.weight.grad), "db": flat(layer.bias.grad),
        "running_mean": flat(layer.running_mean), "running_var": flat(layer.running_var), "y_eval": flat(y_eval),
    }


def cross_entropy(case):
    logits = t(case["logits"], True)
    loss = F.cross_entropy(logits, torch.tensor(case["labels"], dtype=torch.int64))
    loss.backward()
    return {"loss": loss.item(), "dlogits": flat(logits.grad)}


def optimizer(case):
    p = torch.nn.Parameter(t(case["p"]))
    kind = case["kind"]
    if kind == "Adam":
        opt = torch.optim.Adam([p], lr=case["lr"], weight_decay=case["weight_decay"])
    elif kind == "AdamW":
        opt = torch.optim.AdamW([p], lr=case["lr"], weight_decay=case["weight_decay"])
    else:
        opt = torch.optim.SGD([p], lr=case["lr"], momentum=case["momentum"], weight_decay=case["weight_decay"])
    steps = []
    for g in case["grads"]:
        p.grad = t(g)
        opt.step()
        steps.append(flat(p))
    return {"steps": steps}


def layer_norm(case):
    x, w, b = t(case["x"], True), t(case["w"], True), t(case["b"], True)
    y = F.layer_norm(x, (case["w"]["shape"][0],), w, b)
    y.backward(t(case["g"]))
    return {"y": flat(y), "dx": flat(x.grad), "dw": flat(w.grad), "db": flat(b.grad)}


HANDLERS = {"conv2d": conv2d, "batch_norm": batch_norm, "cross_entropy": cross_entropy, "optimizer": optimizer, "layer_norm": layer_norm}

cases = json.load(open(sys.argv[1]))
print(json.dumps({name: HANDLERS[case["op"]](case) for name, case in cases.items()}))
