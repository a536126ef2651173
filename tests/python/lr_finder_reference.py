"""Reference learning-rate range test for tst_lr_finder, written from the definitions
(Smith 2015; fastai's lr_find) without the workbench's code.

Usage: lr_finder_reference.py INPUT

INPUT is a file that torch.load reads, written by the C++ test with torch::pickle_save: a dict
with the small CNN's parameters and buffers under "model.<name>", the batches the test feeds
("images" [steps, batch, channels, height, width], "labels" [steps, batch]) and the settings as
0-d tensors ("start", "end", "num_iter", "beta", "lr_momentum", "classes", "channels",
"exponential", "accumulate").

For each optimizer step i of num_iter, with accumulate batches per step:
  rate   lr_i = start * (end / start) ** (i / (num_iter - 1))   (exponential)
              = start + (end - start) * i / (num_iter - 1)        (linear)
  loss   the mean cross-entropy of the step's batches before the step (train mode)
  smooth avg = beta * avg + (1 - beta) * loss; smoothed = avg / (1 - beta ** (i + 1))
Prints one line per step: "lr loss smoothed" with 17 significant digits.
Exits with status 3 when torch cannot be imported.
"""

import sys

try:
    import torch
    from torch import nn
except ImportError as error:
    print(f"torch missing: {error}", file=sys.stderr)
    sys.exit(3)


def block(cin, cout):
    layers = []
    for i in range(2):
        layers += [nn.Conv2d(cin if i == 0 else cout, cout, 3, padding=1, bias=False),
                   nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
    return layers + [nn.MaxPool2d(2, 2)]


class SmallCnn(nn.Module):
    """The workbench's small_cnn, layer for layer, with the same parameter names."""

    def __init__(self, channels, classes):
        super().__init__()
        self.features = nn.Sequential(*block(channels, 32), *block(32, 64))
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.fc = nn.Linear(64 * 7 * 7, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.avgpool(self.features(x)), 1))


def main():
    torch.set_num_threads(1)
    data = torch.load(sys.argv[1])
    setting = {k: data[k].item() for k in ("start", "end", "num_iter", "beta", "lr_momentum",
                                            "classes", "channels", "exponential", "accumulate")}
    model = SmallCnn(int(setting["channels"]), int(setting["classes"]))
    state = {k[len("model."):]: v for k, v in data.items() if k.startswith("model.")}
    model.load_state_dict(state, strict=True)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=setting["start"],
                          momentum=setting["lr_momentum"])
    start, end, n = setting["start"], setting["end"], int(setting["num_iter"])
    beta, accumulate = setting["beta"], int(setting["accumulate"])
    images, labels = data["images"], data["labels"]
    avg = 0.0
    batch = 0
    for i in range(n):
        lr = start * (end / start) ** (i / (n - 1)) if setting["exponential"] \
            else start + (end - start) * i / (n - 1)
        for group in opt.param_groups:
            group["lr"] = lr
        opt.zero_grad()
        loss_value = 0.0
        for _ in range(accumulate):
            loss = nn.functional.cross_entropy(model(images[batch]), labels[batch])
            loss_value += loss.item() / accumulate
            (loss / accumulate).backward()
            batch += 1
        opt.step()
        avg = beta * avg + (1 - beta) * loss_value
        print(f"{lr:.17g} {loss_value:.17g} {avg / (1 - beta ** (i + 1)):.17g}")


if __name__ == "__main__":
    main()
