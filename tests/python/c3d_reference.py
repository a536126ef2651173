"""C3D with batch norm, written from the paper's layout in PyTorch, for tst_c3d.

Usage: c3d_reference.py FRAMES SIZE WIDTH CHANNELS CLASSES ...  (groups of five)
Prints one line per group: the inputs of fc6, the number of parameters and the output shape
of a forward pass in eval mode on a batch of 1.
"""
import sys

import torch
from torch import nn


def scaled(c, width):
    return max(1, round(c * width))


def build(frames, size, width, channels, classes):
    layers = []
    dims = [frames, size, size]
    c_in = channels
    plan = [64, "p", 128, "p", 256, 256, "p", 512, 512, "p", 512, 512, "p"]
    pools = 0
    for item in plan:
        if item == "p":
            kernel = (1, 2, 2) if pools == 0 else (2, 2, 2)
            padding = (0, 1, 1) if pools == 4 else (0, 0, 0)
            k = tuple(1 if d <= 1 else kk for d, kk in zip(dims, kernel))
            p = tuple(0 if d <= 1 else pp for d, pp in zip(dims, padding))
            layers.append(nn.MaxPool3d(k, stride=k, padding=p))
            dims = [(d + 2 * pp - kk) // kk + 1 for d, kk, pp in zip(dims, k, p)]
            pools += 1
        else:
            c_out = scaled(item, width)
            layers += [nn.Conv3d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm3d(c_out),
                       nn.ReLU(inplace=True)]
            c_in = c_out
    features = nn.Sequential(*layers)
    flat = c_in * dims[0] * dims[1] * dims[2]
    fc = scaled(4096, width)
    model = nn.Sequential(features, nn.Flatten(), nn.Linear(flat, fc), nn.ReLU(),
                          nn.Linear(fc, fc), nn.ReLU(), nn.Linear(fc, classes))
    return model, flat


def main(args):
    for i in range(0, len(args), 5):
        frames, size = int(args[i]), int(args[i + 1])
        width = float(args[i + 2])
        channels, classes = int(args[i + 3]), int(args[i + 4])
        model, flat = build(frames, size, width, channels, classes)
        model.eval()
        with torch.no_grad():
            out = model(torch.zeros(1, channels, frames, size, size))
        params = sum(p.numel() for p in model.parameters())
        print(flat, params, "x".join(str(s) for s in out.shape))


if __name__ == "__main__":
    main(sys.argv[1:])
