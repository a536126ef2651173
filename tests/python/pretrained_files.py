"""Pretrained-weights files as PyTorch users make them, for tst_pretrained.

Usage: pretrained_files.py OUT_DIR

No weights can be downloaded, so torchvision's resnet18 (10 classes, fixed seed, random batch
norm statistics) stands in for ImageNet weights. Writes into OUT_DIR:
  resnet18_scripted.pt  torch.jit.script(model).save(...)
  resnet18_traced.pt    torch.jit.trace(model, x).save(...)
  resnet18_state.pt     torch.save(dict(model.state_dict()), ...), a plain dict
  resnet18_ordered.pt   torch.save(model.state_dict(), ...), the OrderedDict libtorch cannot read
  resnet18_io.pt        {"input": [2, 3, 32, 32], "output": eval-mode logits [2, 10],
                         "features": the input of fc [2, 512]}
  squeezenet_scripted.pt  another network, which does not fit a ResNet
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


def randomize_batch_norm(model):
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            with torch.no_grad():
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 1.5)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)


def main():
    out = sys.argv[1]
    torch.set_num_threads(2)
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=10)
    randomize_batch_norm(model)
    model.eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        y = model(x)
        fc = model.fc
        model.fc = torch.nn.Identity()
        features = model(x)
        model.fc = fc
    torch.jit.script(model).save(os.path.join(out, "resnet18_scripted.pt"))
    torch.jit.trace(model, x).save(os.path.join(out, "resnet18_traced.pt"))
    torch.save(dict(model.state_dict()), os.path.join(out, "resnet18_state.pt"))
    torch.save(model.state_dict(), os.path.join(out, "resnet18_ordered.pt"))
    torch.save({"input": x, "output": y, "features": features},
               os.path.join(out, "resnet18_io.pt"))
    squeezenet = torchvision.models.squeezenet1_1(num_classes=10)
    torch.jit.script(squeezenet).save(os.path.join(out, "squeezenet_scripted.pt"))


if __name__ == "__main__":
    main()
