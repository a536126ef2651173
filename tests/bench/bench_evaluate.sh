#!/usr/bin/env bash
# Benchmark: evaluating ResNet18 at 32x32 (random weights, seed 0) over the same image folder
# with the workbench (eval Loader, 2 workers, + wb::collect_predictions) and with PyTorch
# (ImageFolder + DataLoader, 2 workers, eval mode, no_grad, softmax, per-image loss, argmax),
# both with 2 intra-op threads, never at the same time: WB_REPS alternating rounds of one
# workbench pass then one PyTorch pass, so that a change in the machine's load hits both.
# Prints, per batch size, the images per second of each (from the end of the first batch's
# forward pass, and for the whole pass), min / median / max over the rounds, the ratio of the
# medians, and the same for the forward pass alone on a batch in memory.
# Usage: tests/bench/bench_evaluate.sh [BUILD_DIR] [DATA_DIR]
# Environment: WB_BATCHES (default "256 64"), WB_REPS (3), WB_THREADS (2), WB_PYTHON.
# The default data is Fashion-MNIST's 10,000 test images exported as an image folder.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/release}
data=${2:-/tmp/wb-bench-fmnist}
python=${WB_PYTHON:-/usr/bin/python3}
batches=${WB_BATCHES:-256 64}
reps=${WB_REPS:-3}
threads=${WB_THREADS:-2}

if [ ! -d "$data/train" ]; then
    "$build/app/workbench-cli" import-idx --classes fashion-mnist --out "$data/train" \
        --images /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz \
        --labels /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz
fi

echo "workbench: $build/tests/bench_evaluate; PyTorch $("$python" -c \
    'import torch; print(torch.__version__)') ($python); $threads threads, 2 loader workers"
# Both run in the default environment (libgomp's idle threads spin), as a user runs them.
all=""
for batch in $batches; do
    for round in $(seq "$reps"); do
        load=$(cut -d' ' -f1 /proc/loadavg)  # the machine's 1-minute load before the pass
        out=$("$build/tests/bench_evaluate" "$data" "$batch" 1 "$threads" 2)
        line=$(echo "$out" | awk -v b="$batch" -v r="$round" -v l="$load" '
            $1 == "workbench_from_first_batch_images_per_second" { f = $2 }
            $1 == "workbench_whole_images_per_second" { w = $2 }
            $1 == "workbench_forward_images_per_second" { m = $2 }
            END { printf "batch %d round %d workbench first %s whole %s forward %s load %s", b, r, f, w, m, l }')
        echo "$line"
        all+="$line"$'\n'
        load=$(cut -d' ' -f1 /proc/loadavg)
        out=$("$python" tests/bench/bench_evaluate.py "$data" "$batch" 1 "$threads" 2)
        line=$(echo "$out" | awk -v b="$batch" -v r="$round" -v l="$load" '
            $1 == "pytorch_from_first_batch_images_per_second" { f = $2 }
            $1 == "pytorch_whole_images_per_second" { w = $2 }
            $1 == "pytorch_forward_images_per_second" { m = $2 }
            END { printf "batch %d round %d pytorch   first %s whole %s forward %s load %s", b, r, f, w, m, l }')
        echo "$line"
        all+="$line"$'\n'
    done
done

echo "== evaluation, img/s min / median / max over $reps rounds"
printf "%s" "$all" | awk '
    function median(list, n,    a, i, j, t) {
        n = split(list, a, " ")
        for (i = 1; i <= n; ++i) for (j = i + 1; j <= n; ++j) if (a[j] + 0 < a[i] + 0) {
            t = a[i]; a[i] = a[j]; a[j] = t
        }
        lo = a[1]; hi = a[n]
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    { key = $2 " " $5; first[key] = first[key] " " $7; whole[key] = whole[key] " " $9
      fwd[key] = fwd[key] " " $11; if (!($2 in seen)) { seen[$2] = 1; order[++nb] = $2 } }
    END {
        split("first whole forward", kinds, " ")
        for (i = 1; i <= nb; ++i) {
            b = order[i]
            for (k = 1; k <= 3; ++k) {
                kind = kinds[k]
                for (t = 1; t <= 2; ++t) {
                    tool = t == 1 ? "workbench" : "pytorch"
                    list = kind == "first" ? first[b " " tool] : kind == "whole" ? whole[b " " tool] : fwd[b " " tool]
                    m[t] = median(list); l[t] = lo; h[t] = hi
                }
                label = kind == "first" ? "from first batch" : kind == "whole" ? "whole pass" : "forward alone"
                printf "batch %3d %-16s workbench %6.1f / %6.1f / %6.1f  pytorch %6.1f / %6.1f / %6.1f  ratio %.3f\n",
                    b, label, l[1], m[1], h[1], l[2], m[2], h[2], m[1] / m[2]
            }
        }
    }'
