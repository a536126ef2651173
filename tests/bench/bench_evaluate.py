"""PyTorch baseline for tests/bench/bench_evaluate.cpp: evaluates ResNet18 at 32x32 over an
image folder with torchvision's ImageFolder and a DataLoader (no shuffle, 2 workers), in eval
mode without gradients, keeping what wb::collect_predictions keeps: softmax probabilities,
per-image cross-entropy, labels, argmax and paths. Each repetition builds a fresh DataLoader and
prints images per second from the end of the first batch's forward pass to the end, and for
the whole pass from the DataLoader's construction; then the medians, and that of the forward
pass alone on a batch in memory.
Usage: bench_evaluate.py DATASET_FOLDER [BATCH] [REPETITIONS] [THREADS] [WORKERS]"""
import statistics
import sys
import time

import torch
import torch.nn.functional as F
import torchvision
from torchvision import transforms


def collect_predictions(model, data, batch, workers, timing):
    """One pass over `data`; returns the predictions and notes the end of the first forward."""
    loader = torch.utils.data.DataLoader(data, batch_size=batch, shuffle=False,
                                         num_workers=workers)
    probabilities, losses, labels, predicted, paths = [], [], [], [], []
    position = 0
    with torch.no_grad():
        for x, y in loader:
            logits = model(x)
            if "first_end" not in timing:
                timing["first_end"] = time.perf_counter()
                timing["first_batch"] = x.shape[0]
            losses.append(F.cross_entropy(logits, y, reduction="none"))
            probabilities.append(torch.softmax(logits, 1))
            labels.append(y.to(torch.int32))
            predicted.append(logits.argmax(1).to(torch.int32))
            paths.extend(path for path, _ in data.samples[position:position + x.shape[0]])
            position += x.shape[0]
    return (torch.cat(probabilities), torch.cat(losses), torch.cat(labels), torch.cat(predicted),
            paths)


def main():
    root = sys.argv[1]
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 256
    repetitions = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    workers = int(sys.argv[5]) if len(sys.argv) > 5 else 2
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)  # as wb::set_threads does
    torch.manual_seed(0)
    tf = transforms.Compose([
        transforms.Resize(32),
        transforms.CenterCrop(32),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    # ImageFolder's loader converts to RGB: gray images become 3 equal channels.
    data = torchvision.datasets.ImageFolder(root + "/train", tf)
    model = torchvision.models.resnet18(num_classes=len(data.classes))
    model.eval()
    print(f"pytorch_images {len(data)}")
    print(f"pytorch_threads {torch.get_num_threads()}", flush=True)

    # Warm-up on a few batches, as bench_evaluate.cpp does.
    with torch.no_grad():
        warm = iter(torch.utils.data.DataLoader(data, batch_size=batch, num_workers=workers))
        for _ in range(3):
            model(next(warm)[0])
        del warm

    from_first, whole = [], []
    for r in range(repetitions):
        timing = {}
        start = time.perf_counter()
        probabilities, losses, labels, predicted, paths = collect_predictions(
            model, data, batch, workers, timing)
        end = time.perf_counter()
        n = len(paths)
        if n != len(data) or probabilities.shape[0] != n or losses.shape[0] != n:
            sys.exit(f"the pass returned {n} of {len(data)} images")
        from_first.append((n - timing["first_batch"]) / (end - timing["first_end"]))
        whole.append(n / (end - start))
        print(f"pytorch_run {r + 1} from_first_batch {from_first[-1]:.1f} whole {whole[-1]:.1f}",
              flush=True)
    print(f"pytorch_from_first_batch_images_per_second {statistics.median(from_first):.1f}")
    print(f"pytorch_whole_images_per_second {statistics.median(whole):.1f}")

    # The forward pass alone on a batch already in memory, as bench_evaluate.cpp.
    x = torch.randn(batch, 3, 32, 32)
    iterations = max(2560 // batch, 5)
    forward = []
    with torch.no_grad():
        for _ in range(repetitions):
            start = time.perf_counter()
            for _ in range(iterations):
                model(x)
            forward.append(iterations * batch / (time.perf_counter() - start))
    print(f"pytorch_forward_images_per_second {statistics.median(forward):.1f}")


if __name__ == "__main__":
    main()
