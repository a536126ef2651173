#!/usr/bin/env bash
# Installs the Debian 12 packages the workbench needs to build, test and run.
# Only packages that are not installed yet are fetched; running it twice is harmless.
# Uses sudo when not run as root. Non-interactive: safe for CI and containers.
set -euo pipefail

packages=(
    # build tools
    build-essential cmake ninja-build pkg-config
    # GUI
    qt6-base-dev qt6-charts-dev libqt6opengl6-dev libqt6svg6 fonts-dejavu-core
    # engine
    libtorch-dev libopencv-dev libyaml-cpp-dev libprotobuf-dev protobuf-compiler
    libboost-dev libgloo-dev libcli11-dev
    # evaluation.json
    nlohmann-json3-dev
    # TensorBoard writer: animated GIFs
    libgif-dev
    # an optimized BLAS for linear layers (Debian's libtorch links the reference BLAS)
    libopenblas0-openmp
    # tests: reference outputs, real data, a virtual display for screenshots
    python3-torch python3-torchvision dataset-fashion-mnist xvfb xauth
    # tests: the independent TensorBoard event-file reader (tests/python/tb_reader.py)
    python3-protobuf python3-crcmod python3-pil
    # tests: reference metrics (tests/python/metrics_reference.py)
    python3-sklearn
    # the video demo and benchmark: OpenCV's sample videos (vtest.avi, Megamind.avi, tree.avi)
    opencv-doc
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages already installed"
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
