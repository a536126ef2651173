#!/usr/bin/env bash
# Rebuilds resources/demo from Debian's dataset-fashion-mnist with the engine's own IDX export:
# 30 train and 10 val images per class from the training set (disjoint: the first 30 of each
# class, then the next 10), and 10 test images per class from the test set.
# Usage: packaging/make-demo-dataset.sh [fashion-mnist folder]
set -euo pipefail

src_dir="${1:-/usr/share/datasets/fashion-mnist}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
out="$repo/resources/demo"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cat > "$work/make_demo.cpp" <<'CPP'
#include <iostream>
#include <string>

#include "engine/idx.h"

int main(int argc, char** argv) {
    const std::string src = argv[1];
    const std::string out = argv[2];
    const auto& names = wb::fashion_mnist_classes();
    const std::string train_images = src + "/train-images-idx3-ubyte.gz";
    const std::string train_labels = src + "/train-labels-idx1-ubyte.gz";
    int n = wb::export_idx_to_folder(train_images, train_labels, out + "/train", names, 30, 0);
    n += wb::export_idx_to_folder(train_images, train_labels, out + "/val", names, 10, 30);
    n += wb::export_idx_to_folder(src + "/t10k-images-idx3-ubyte.gz",
                                  src + "/t10k-labels-idx1-ubyte.gz", out + "/test", names, 10);
    std::cout << "wrote " << n << " images into " << out << "\n";
    return 0;
}
CPP

g++ -std=c++17 -O1 -I"$repo" -I/usr/include/opencv4 "$work/make_demo.cpp" \
    "$repo/engine/idx.cpp" "$repo/engine/errors.cpp" \
    -lopencv_imgcodecs -lopencv_core -lz -o "$work/make_demo"

rm -rf "$out/train" "$out/val" "$out/test"
"$work/make_demo" "$src_dir" "$out"
