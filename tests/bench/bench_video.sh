#!/usr/bin/env bash
# Benchmark: video decoding and C3D-BN training speed on the forward-or-backward clips built
# from OpenCV's sample videos (Debian's opencv-doc). Makes the dataset once, then runs
# bench_video twice: with the clip cache in memory, and with no memory cache so that every
# later epoch reads the disk cache. Prints videos decoded per second, loader and training clips
# per second for the first epoch (decoding) and later ones (cached), and the memory used.
# Usage: tests/bench/bench_video.sh [BUILD_DIR] [DATA_DIR] [EPOCHS]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/release}
data=${2:-/tmp/wb-bench-direction}
epochs=${3:-3}
samples=/usr/share/doc/opencv-doc/examples/data
if [ ! -f "$samples/vtest.avi" ]; then
    echo "bench_video: needs OpenCV's sample videos: apt-get install opencv-doc" >&2
    exit 2
fi
if [ ! -d "$data/train" ]; then
    videos=$(mktemp -d)
    trap 'rm -rf "$videos"' EXIT
    for name in cup box; do
        gunzip -c "/usr/share/doc/opencv-doc/opencv4/html/$name.mp4.gz" > "$videos/$name.mp4"
    done
    "$build/tests/make_direction_clips" --out "$data" --frames 24 --hop 4 --val-hop 8 \
        --side 80 --val-fraction 0.3 "$samples/vtest.avi" "$samples/Megamind.avi" \
        "$videos/cup.mp4" "$videos/box.mp4" 2> /dev/null
fi
echo "== clip cache in memory"
"$build/tests/bench_video" --data "$data" --epochs "$epochs" 2> /dev/null
echo "== no memory cache: later epochs read the disk cache"
"$build/tests/bench_video" --data "$data" --epochs "$epochs" --cache-mb 0 2> /dev/null
