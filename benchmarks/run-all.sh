#!/usr/bin/env bash
# Runs every benchmark (about 20 minutes on 2 cores) and rewrites the results table in
# benchmarks/README.md: everything once with one fork, then the B1 and B3 pairs again with three
# forks (B3 without the GC profiler), whose figures replace the single-fork ones.
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q -Pbenchmarks -pl benchmarks -am -DskipTests package
jar=benchmarks/target/benchmarks.jar
all=(-f 1 -wi 3 -i 5 -w 2s -r 3s -prof gc -rf json -rff benchmarks/target/results-all.json)
b1=('ToolCallBenchmark.(bareSdkCall|securedCall|securedCallAuditSlf4jAsync)$' -f 3 -wi 3 -i 5 -w 2s -r 3s -prof gc
    -rf json -rff benchmarks/target/results-headline.json)
b3=('FilesAndCommandsBenchmark.(secureExec|plainProcessBuilder)$' -f 3 -wi 3 -i 5 -w 2s -r 3s
    -rf json -rff benchmarks/target/results-b3.json)
java -jar "$jar" "${all[@]}"
java -jar "$jar" "${b1[@]}"
java -jar "$jar" "${b3[@]}"
java -cp "$jar" dev.mcpsecure.benchmarks.ResultsTable benchmarks/README.md \
    "benchmarks/run-all.sh   # runs, in turn:
java -jar $jar ${all[*]}
java -jar $jar '${b1[0]}' ${b1[*]:1}
java -jar $jar '${b3[0]}' ${b3[*]:1}" \
    benchmarks/target/results-all.json benchmarks/target/results-headline.json benchmarks/target/results-b3.json
