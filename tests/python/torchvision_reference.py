"""Reference outputs of torchvision models for tst_models' parity test.

Usage: torchvision_reference.py OUT_DIR

For each of resnet18, resnet34, resnet50 and vgg16_bn (10 classes, fixed seed) writes into OUT_DIR:
  <arch>_weights.pt  the state dict as a plain dict (libtorch's pickle_load cannot read the
                     OrderedDict that torch.save(model.state_dict()) writes)
  <arch>_io.pt       {"input": [N, 3, 32, 32], "output": eval-mode logits [N, 10]}
  <arch>_modules.txt the names of model.named_modules(), one per line, in order
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
    # Fresh BN layers hold mean 0, var 1, weight 1, bias 0: a model that ignored them would
    # still match. Random values make the test see every buffer.
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            with torch.no_grad():
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 1.5)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)
                module.num_batches_tracked.fill_(7)


def write_reference(arch, batch, out_dir):
    torch.manual_seed(0)
    model = getattr(torchvision.models, arch)(num_classes=10)
    randomize_batch_norm(model)
    model.eval()
    x = torch.randn(batch, 3, 32, 32)
    with torch.no_grad():
        y = model(x)
    torch.save(dict(model.state_dict()), os.path.join(out_dir, f"{arch}_weights.pt"))
    torch.save({"input": x, "output": y}, os.path.join(out_dir, f"{arch}_io.pt"))
    with open(os.path.join(out_dir, f"{arch}_modules.txt"), "w") as names:
        names.writelines(name + "\n" for name, _ in model.named_modules())
    print(f"{arch}: output std {y.std().item():.3g}")


def main():
    out_dir = sys.argv[1]
    torch.set_num_threads(2)
    write_reference("resnet18", 2, out_dir)
    write_reference("resnet34", 2, out_dir)
    write_reference("resnet50", 2, out_dir)
    write_reference("vgg16_bn", 1, out_dir)


if __name__ == "__main__":
    main()
