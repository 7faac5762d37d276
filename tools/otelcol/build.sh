#!/usr/bin/env bash
# Build the minimal OpenTelemetry Collector used by the e2e OTLP export tests.
# Usage: ./build.sh [OUTPUT_PATH]   (default: ./otelcol-mcp-secure)
# Uses the default Go module and build caches. Set GOFLAGS=-p=1 to limit CPU use.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-./otelcol-mcp-secure}"
case "$out" in /*) ;; *) out="$PWD/${out#./}" ;; esac
start=$(date +%s%N)
(cd "$here" && CGO_ENABLED=0 go build -trimpath -o "$out" .)
end=$(date +%s%N)
ms=$(( (end - start) / 1000000 ))
printf 'built %s in %d.%03ds\n' "$out" $((ms / 1000)) $((ms % 1000))
