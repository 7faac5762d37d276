#!/usr/bin/env bash
# Fuzzes one target for a while: fuzz.sh <Target> [duration]
#   Targets: PolicyLoaderFuzzTest FilesystemGuardFuzzTest EgressGuardFuzzTest ArgvFuzzTest JwtVerifierFuzzTest
#   Duration: Jazzer's form, such as 10m or 1h (default 10m).
# A finding stops the run, fails it, and is written as a regression input under
# src/test/resources/dev/mcpsecure/fuzz/<Target>Inputs/<method>/ (commit it with the fix);
# `./mvnw verify` replays every input there. The generated corpus goes to .cifuzz-corpus/.
# Jazzer's bug detectors are on, but for regex injection (see pom.xml). Coverage feedback comes from
# our code and the parsers under it (Jackson, SnakeYAML Engine, Nimbus), not only from class folders.
set -euo pipefail
target="${1:?usage: fuzz.sh <Target> [duration]}"
duration="${2:-10m}"
cd "$(dirname "$0")/.."
JAZZER_FUZZ=1 ./mvnw -B -q -pl mcp-secure-fuzz -am test \
  -Dtest="$target" -Dsurefire.failIfNoSpecifiedTests=false \
  -Djazzer.max_duration="$duration" -DtrimStackTrace=false \
  -Djazzer.instrumentation_includes='dev.mcpsecure.**:tools.jackson.**:org.snakeyaml.**:com.nimbusds.**' 
