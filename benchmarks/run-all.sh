#!/usr/bin/env bash
# Runs every benchmark (about 17 minutes on 2 cores) and rewrites the results table in
# benchmarks/README.md: everything once with one fork, then B1's headline pair again with three
# forks, whose figures replace the single-fork ones.
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q -Pbenchmarks -pl benchmarks -am -DskipTests package
all=(-f 1 -wi 3 -i 5 -w 2s -r 3s -prof gc -rf json -rff benchmarks/target/results-all.json)
headline=('ToolCallBenchmark.(bareSdkCall|securedCall|securedCallAuditSlf4jAsync)$' -f 3 -wi 3 -i 5 -w 2s -r 3s -prof gc
    -rf json -rff benchmarks/target/results-headline.json)
java -jar benchmarks/target/benchmarks.jar "${all[@]}"
java -jar benchmarks/target/benchmarks.jar "${headline[@]}"
java -cp benchmarks/target/benchmarks.jar dev.mcpsecure.benchmarks.ResultsTable benchmarks/README.md \
    "benchmarks/run-all.sh, which runs: java -jar benchmarks/target/benchmarks.jar ${all[*]}; java -jar benchmarks/target/benchmarks.jar '${headline[0]}' ${headline[*]:1}" \
    benchmarks/target/results-all.json benchmarks/target/results-headline.json
