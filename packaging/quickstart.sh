#!/usr/bin/env bash
# The README's quick start. On a fresh Debian 12 machine:
#   packaging/quickstart.sh gui    installs what is missing, builds, opens the workbench on the
#                                  bundled demo dataset
#   packaging/quickstart.sh test   installs what is missing, builds, runs every test with CTest
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-gui}
case "$mode" in
    gui | test) ;;
    *)
        echo "usage: $0 [gui|test]" >&2
        exit 2
        ;;
esac

bash packaging/install-deps.sh
cmake --preset release
cmake --build --preset release -j "$(nproc)"

if [ "$mode" = test ]; then
    ctest --preset release -j 2
else
    exec build/release/app/workbench "${@:2}"
fi
