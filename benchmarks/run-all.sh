#!/usr/bin/env bash
# Runs every benchmark (about 12 minutes on 2 cores) and rewrites the results table in
# benchmarks/README.md. Extra arguments go to JMH (for example a class name to run one class,
# though the table is then rewritten with only those rows).
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q -Pbenchmarks -pl benchmarks -am -DskipTests package
jmh=(-f 1 -wi 3 -i 5 -w 2s -r 3s -prof gc -rf json -rff benchmarks/target/results.json "$@")
java -jar benchmarks/target/benchmarks.jar "${jmh[@]}"
java -cp benchmarks/target/benchmarks.jar dev.mcpsecure.benchmarks.ResultsTable \
    benchmarks/target/results.json benchmarks/README.md \
    "benchmarks/run-all.sh   # java -jar benchmarks/target/benchmarks.jar ${jmh[*]}"
