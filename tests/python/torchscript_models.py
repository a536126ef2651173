"""TorchScript classifiers that are not among the workbench's networks, for tst_torchscript_model.

Usage: torchscript_models.py OUT_DIR

Writes into OUT_DIR, for a small custom network ("tiny": convolution, batch norm, pooling, a
linear layer `fc` of 6 outputs) and torchvision's mobilenet_v3_small (10 classes, last linear
layer `classifier.3`), with fixed seeds and random batch-norm statistics:
  <name>_scripted.pt  torch.jit.script(model).save(...)
  tiny_traced.pt      torch.jit.trace(model, x).save(...)
  <name>_io.pt        {"input": [2, 3, 16, 16] (tiny) or [2, 3, 32, 32], "output": eval-mode
                       logits, "features": the input of the last linear layer}
Exits with status 3 when torch or torchvision cannot be imported.
"""

import os
import sys

try:
    import torch
    import torchvision
except ImportError as error:
    print(f"torch or torchvision missing: {error}", file=sys.stderr)
    sys.exit(3)


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(8)
        self.pool = torch.nn.AdaptiveAvgPool2d(2)
        self.fc = torch.nn.Linear(32, 6)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn(self.conv(x))))
        return self.fc(torch.flatten(x, 1))


def randomize_batch_norm(model):
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            with torch.no_grad():
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 1.5)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)


def write(name, model, head_path, side, out, trace=False):
    randomize_batch_norm(model)
    model.eval()
    x = torch.randn(2, 3, side, side)
    with torch.no_grad():
        y = model(x)
        parent = model
        for part in head_path[:-1]:
            parent = getattr(parent, part) if not part.isdigit() else parent[int(part)]
        last = head_path[-1]
        head = parent[int(last)] if last.isdigit() else getattr(parent, last)
        if last.isdigit():
            parent[int(last)] = torch.nn.Identity()
        else:
            setattr(parent, last, torch.nn.Identity())
        features = model(x)
        if last.isdigit():
            parent[int(last)] = head
        else:
            setattr(parent, last, head)
    torch.jit.script(model).save(os.path.join(out, f"{name}_scripted.pt"))
    if trace:
        torch.jit.trace(model, x).save(os.path.join(out, f"{name}_traced.pt"))
    torch.save({"input": x, "output": y, "features": features},
               os.path.join(out, f"{name}_io.pt"))


def main():
    out = sys.argv[1]
    torch.set_num_threads(2)
    torch.manual_seed(0)
    write("tiny", Tiny(), ["fc"], 16, out, trace=True)
    torch.manual_seed(1)
    write("mobilenet", torchvision.models.mobilenet_v3_small(num_classes=10),
          ["classifier", "3"], 32, out)


if __name__ == "__main__":
    main()
