#!/usr/bin/env bash
# Lints the container recipe (packaging/Dockerfile) with dockerfile-utils, the validator of the
# Dockerfile language server, and checks that the README's container commands agree with it
# (packaging/check-container-readme.py). Exits non-zero on any problem, warnings included.
#
# Needs node, npm and python3 (Debian 12: apt-get install nodejs npm python3). The first run
# installs the pinned linter from the npm registry into build/lint-tools; later runs need no
# network. Usage: packaging/lint-container.sh [DOCKERFILE [README]]
set -euo pipefail
cd "$(dirname "$0")/.."

dockerfile=${1:-packaging/Dockerfile}
readme=${2:-README.md}
tools=build/lint-tools
version=0.16.3
linter=$tools/node_modules/.bin/dockerfile-utils

for tool in node npm python3; do
    if ! command -v "$tool" > /dev/null; then
        echo "lint-container: $tool is missing (Debian 12: apt-get install nodejs npm python3)" >&2
        exit 2
    fi
done

if ! "$linter" --version 2> /dev/null | grep -q "version $version "; then
    echo "lint-container: installing dockerfile-utils $version into $tools"
    mkdir -p "$tools"
    npm install --prefix "$tools" --no-audit --no-fund --ignore-scripts --loglevel=error \
        "dockerfile-utils@$version" > /dev/null
fi

echo "lint-container: dockerfile-utils $version lint $dockerfile"
status=0
# The JSON form lists warnings too; the plain form (exit 1 only on errors) explains them.
if ! diagnostics=$("$linter" lint --json "$dockerfile") || [ "$diagnostics" != "[]" ]; then
    "$linter" lint "$dockerfile" || true
    echo "lint-container: the linter reported problems in $dockerfile"
    status=1
fi

echo "lint-container: checking the container commands of $readme against $dockerfile"
python3 packaging/check-container-readme.py --dockerfile "$dockerfile" --readme "$readme" \
    || status=1

if [ "$status" -eq 0 ]; then
    echo "lint-container: no problems"
fi
exit "$status"
