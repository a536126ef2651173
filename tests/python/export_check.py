"""Runs a model exported by `workbench-cli export` the way a Python user would, for tst_export.

Usage: export_check.py EXPORT_DIR IMAGE...

Builds the model with the Python lines of EXPORT_DIR/model.json (torchvision's model of the same
name, load_state_dict of weights.pt), preprocesses each image with PIL as model.json describes
(the images are already at the model's size), and prints a JSON object: image path -> softmax
probabilities in the order of model.json's classes. Exits with status 3 when torch or
torchvision cannot be imported.
"""

import json
import os
import sys

try:
    import numpy
    import torch
    import torchvision  # noqa: F401  (the model.json lines import it too)
    from PIL import Image
except ImportError as error:
    print(f"torch, torchvision, numpy or PIL missing: {error}", file=sys.stderr)
    sys.exit(3)


def main():
    export_dir = sys.argv[1]
    with open(os.path.join(export_dir, "model.json")) as f:
        info = json.load(f)
    pre = info["preprocessing"]
    os.chdir(export_dir)
    scope = {}
    exec(info["python"], scope)
    model = scope["model"]
    out = {}
    for path in sys.argv[2:]:
        image = Image.open(path).convert("L" if pre["channels"] == 1 else "RGB")
        if image.size != (pre["image_size"], pre["image_size"]):
            raise SystemExit(f"{path}: {image.size}, expected the model's size")
        x = torch.from_numpy(numpy.asarray(image, dtype=numpy.float32) / 255.0)
        x = x.unsqueeze(0) if x.dim() == 2 else x.permute(2, 0, 1)
        if pre["mean"]:
            mean = torch.tensor(pre["mean"]).view(-1, 1, 1)
            std = torch.tensor(pre["std"]).view(-1, 1, 1)
            x = (x - mean) / std
        with torch.no_grad():
            p = torch.softmax(model(x.unsqueeze(0)), 1)[0]
        out[path] = p.tolist()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
