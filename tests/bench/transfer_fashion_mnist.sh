#!/usr/bin/env bash
# Transfer learning on real data that needs no download: ResNet18 pretrained on five
# Fashion-MNIST classes, transferred to a few hundred images of the other five, as a fixed
# feature extractor and fine-tuned, against training from scratch with the same budget.
# Usage: tests/bench/transfer_fashion_mnist.sh [BUILD_DIR] [WORK_DIR] [PER_CLASS] [SEEDS]
# PER_CLASS training images per target class (default 60), SEEDS the seeds of the transfer
# runs (default "1 2 3"). The environment sets the rest of the budget: SOURCE_PER_CLASS
# (2000), SOURCE_EPOCHS (3), TARGET_EPOCHS (15), TEST_PER_CLASS (1000), FM_DIR. Prints each run's
# progress and a table of validation and test accuracies.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/release}
work=${2:-/tmp/wb-transfer}
per_class=${3:-60}
seeds=${4:-1 2 3}
source_per_class=${SOURCE_PER_CLASS:-2000}
source_epochs=${SOURCE_EPOCHS:-3}
target_epochs=${TARGET_EPOCHS:-15}
test_per_class=${TEST_PER_CLASS:-1000}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}  # no spinning threads on a shared machine
cli="$build/app/workbench-cli"
fm=${FM_DIR:-$work/fm}  # the exported Fashion-MNIST folder, made when missing

if [ ! -d "$fm/train" ]; then
    "$cli" import-fashion-mnist --out "$fm" > /dev/null
fi

# source: T-shirt_top, Trouser, Pullover, Dress, Coat; SOURCE_PER_CLASS training images each
# and 200 for validation. target: Sandal, Shirt, Sneaker, Bag, Ankle_boot; PER_CLASS training
# images, 20 for validation and TEST_PER_CLASS test images of each.
link_class() {  # FROM_DIR TO_DIR FIRST COUNT
    mkdir -p "$2"
    ls "$1" | sort | sed -n "$(($3 + 1)),$(($3 + $4))s|^|$1/|p" | xargs ln -s -t "$2"
}
rm -rf "$work/source" "$work/target"
for c in T-shirt_top Trouser Pullover Dress Coat; do
    link_class "$fm/train/$c" "$work/source/train/$c" 0 "$source_per_class"
    link_class "$fm/train/$c" "$work/source/val/$c" "$source_per_class" 200
done
for c in Sandal Shirt Sneaker Bag Ankle_boot; do
    link_class "$fm/train/$c" "$work/target/train/$c" 0 "$per_class"
    link_class "$fm/train/$c" "$work/target/val/$c" "$per_class" 20
    link_class "$fm/test/$c" "$work/target/test/$c" 0 "$test_per_class"
done

runs="$work/runs"
rm -rf "$runs"
common=(--model resnet18 --image-size 32 --channels 1 --no-tensorboard --runs "$runs")
echo "== pretraining on the five source classes"
"$cli" train "${common[@]}" --data "$work/source" --epochs "$source_epochs" --batch-size 64 --lr 0.05 \
    --schedule cosine --seed 1 --name source
source_run=$(ls -d "$runs"/*-source | head -n 1)

result() { awk -v k="$2" '$1 == k":" { print $2 }' "$1/result.yaml"; }
budget=(--data "$work/target" --epochs "$target_epochs" --batch-size 32 --schedule cosine)
printf "%-14s %6s %9s %9s %8s\n" run seed val test seconds > "$work/table.txt"
for seed in $seeds; do
    "$cli" train "${common[@]}" "${budget[@]}" --seed "$seed" --lr 0.05 \
        --name "scratch-$seed"
    "$cli" train "${common[@]}" "${budget[@]}" --seed "$seed" --lr 0.05 \
        --weights "$source_run" --finetune head --name "head-$seed"
    "$cli" train "${common[@]}" "${budget[@]}" --seed "$seed" --lr 0.01 \
        --weights "$source_run" --finetune all --name "finetune-$seed"
    "$cli" train "${common[@]}" "${budget[@]}" --seed "$seed" --lr 0.05 \
        --weights "$source_run" --finetune head --unfreeze-epoch $((target_epochs / 2 + 1)) --backbone-lr-factor 0.2 \
        --name "gradual-$seed"
done
for run in "$runs"/*; do
    name=$(basename "$run" | sed 's/^[0-9]*-[0-9]*-//')
    awk -v mode="${name%-*}" -v seed="${name##*-}" -v val="$(result "$run" best_val_accuracy)" \
        -v test="$(result "$run" test_accuracy)" -v s="$(result "$run" seconds)" 'BEGIN {
        t = test == "" ? "-" : sprintf("%.2f%%", 100 * test)
        printf "%-14s %6s %8.2f%% %9s %8.1f\n", mode, seed, 100 * val, t, s }' \
        >> "$work/table.txt"
done
cat "$work/table.txt"
