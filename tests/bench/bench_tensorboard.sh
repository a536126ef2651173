#!/usr/bin/env bash
# Benchmark: the cost of TensorBoard logging. Trains the same one-epoch run (small CNN on
# Fashion-MNIST's 10,000 test images as an image folder, 10% held out for validation) with
# everything logged and with logging off, alternating, and prints each epoch's seconds (training
# and validation, from metrics.csv) and the median overhead. Goal: under 2%.
# Usage: tests/bench/bench_tensorboard.sh [BUILD_DIR] [DATA_DIR] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/release}
data=${2:-/tmp/wb-bench-fmnist}
rounds=${3:-3}
cli="$build/app/workbench-cli"
if [ ! -d "$data/train" ]; then
    "$cli" import-idx --classes fashion-mnist --out "$data/train" \
        --images /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz \
        --labels /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz
fi
runs=$(mktemp -d)
trap 'rm -rf "$runs"' EXIT
epoch_seconds() {  # the seconds column of the newest run's metrics.csv
    local dir
    dir=$(ls -td "$runs"/*-"$1" | head -1)
    awk -F, 'NR == 2 { print $6 }' "$dir/metrics.csv"
}
on=() off=()
for i in $(seq "$rounds"); do
    "$cli" train --data "$data" --epochs 1 --val-fraction 0.1 --runs "$runs" --name on > /dev/null 2>&1
    on+=("$(epoch_seconds on)")
    "$cli" train --data "$data" --epochs 1 --val-fraction 0.1 --runs "$runs" --name off \
        --no-tensorboard > /dev/null 2>&1
    off+=("$(epoch_seconds off)")
    echo "round $i: logging on ${on[-1]} s, off ${off[-1]} s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
m_on=$(median "${on[@]}")
m_off=$(median "${off[@]}")
du -sh "$(ls -td "$runs"/*-on | head -1)/tensorboard" | awk '{ print "log folder of one run: " $1 }'
awk -v a="$m_on" -v b="$m_off" 'BEGIN {
    printf "median epoch: logging on %.2f s, off %.2f s, overhead %.2f%% (goal: under 2%%)\n", a, b, 100 * (a / b - 1)
}'
