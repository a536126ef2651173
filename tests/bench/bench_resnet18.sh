#!/usr/bin/env bash
# Benchmark: one epoch of ResNet18 at 32x32 on the same image folder with the workbench and
# with PyTorch (ImageFolder + DataLoader, 2 workers), and the step alone on a batch in memory.
# Usage: tests/bench/bench_resnet18.sh [BUILD_DIR] [DATA_DIR]
# The default data is Fashion-MNIST's 10,000 test images exported as an image folder.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/release}
data=${2:-/tmp/wb-bench-fmnist}
python=${WB_PYTHON:-/usr/bin/python3}

if [ ! -d "$data/train" ]; then
    "$build/app/workbench-cli" import-idx --classes fashion-mnist --out "$data/train" \
        --images /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz \
        --labels /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz
fi

echo "== workbench (C++)"
wb=$("$build/tests/bench_train" "$data" 64 50 | tee /dev/stderr)
# Both run in the default environment (libgomp's idle threads spin), as a user runs them.
echo "== PyTorch $("$python" -c 'import torch; print(torch.__version__)') (Python)"
py=$("$python" tests/bench/bench_resnet18.py "$data" 64 50 | tee /dev/stderr)

value() { echo "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
awk -v we="$(value "$wb" workbench_epoch_images_per_second)" \
    -v pe="$(value "$py" pytorch_epoch_images_per_second)" \
    -v ws="$(value "$wb" workbench_step_images_per_second)" \
    -v ps="$(value "$py" pytorch_step_images_per_second)" 'BEGIN {
    printf "epoch: workbench %.1f img/s, pytorch %.1f img/s, ratio %.3f (goal >= 1.15)\n", we, pe, we / pe
    printf "step:  workbench %.1f img/s, pytorch %.1f img/s, ratio %.3f\n", ws, ps, ws / ps
    printf "data loading hidden: workbench epoch at %.1f%% of its step-only speed\n", 100 * we / ws
}'
