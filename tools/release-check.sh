#!/usr/bin/env bash
# What a release publishes, checked after the build that made it (`./mvnw -B verify` runs this as
# the last module, release-check; -DskipITs skips it):
#   1. every published module has its jar, -sources.jar, -javadoc.jar and CycloneDX SBOM (the BOM
#      and the parent: their POM and SBOM);
#   2. a second build of the same sources, in a copy, with the release profile, gives the same
#      artifacts byte for byte (reproducible builds: project.build.outputTimestamp);
#   3. that build signs every artifact with a throwaway GPG key made here and now, and every
#      signature verifies with that key's public key alone; a changed jar no longer verifies.
# Needs git (the copy is of the files git tracks or would track), gpg, and the network a normal
# build has (the release profile's plugin; RELEASE_CHECK_OFFLINE=1 builds offline once it is cached).
# It shows the build is deterministic on this machine (same JDK, same ~/.m2), not elsewhere. Exit 0 when all hold; otherwise one line per problem.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
published=(mcp-secure-api mcp-secure-testkit mcp-secure-core mcp-secure-vault mcp-secure-http mcp-secure-otel)
poms_only=(. mcp-secure-bom)
problems=0
problem() {
    echo "release-check: $*" >&2
    problems=$((problems + 1))
}

for tool in git gpg tar cmp; do
    command -v "$tool" >/dev/null || { echo "release-check: needs '$tool' on PATH" >&2; exit 2; }
done
git -C "$root" rev-parse --git-dir >/dev/null 2>&1 \
    || { echo "release-check: $root is not a git checkout; the second build copies the files git tracks" >&2; exit 2; }

version=$(sed -n 's:^  <version>\(.*\)</version>$:\1:p' "$root/pom.xml" | head -1)
[[ -n "$version" ]] || { echo "release-check: no <version> in $root/pom.xml" >&2; exit 2; }

# The artifacts of one module's build directory that a release deploys, as paths relative to root.
artifacts() {
    local module=$1 base=$2 name
    name=$(sed -n 's:^  <artifactId>\(.*\)</artifactId>$:\1:p' "$base/$module/pom.xml" | head -1)
    # a name not found must not make a module contribute nothing: this path never exists
    [[ -n "$name" ]] || name="no-artifactId-in-$module-pom"
    if [[ " ${poms_only[*]} " == *" $module "* ]]; then
        echo "$module/target/bom.json"
    else
        echo "$module/target/$name-$version.jar"
        echo "$module/target/$name-$version-sources.jar"
        echo "$module/target/$name-$version-javadoc.jar"
        echo "$module/target/bom.json"
    fi
}

# 1. What this build made.
for module in "${poms_only[@]}" "${published[@]}"; do
    while read -r file; do
        [[ -s "$root/$file" ]] || problem "missing $file (run ./mvnw -B verify first)"
    done < <(artifacts "$module" "$root")
done
((problems == 0)) || exit 1

# 2. The same sources, built again elsewhere with the release profile.
work=$(mktemp -d "${TMPDIR:-/tmp}/mcp-secure-release-check.XXXXXX")
cleanup() {
    gpgconf --homedir "$work/gnupg" --kill all >/dev/null 2>&1 || true
    if [[ -n "${RELEASE_CHECK_KEEP:-}" ]]; then
        echo "release-check: kept $work (RELEASE_CHECK_KEEP)" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
mkdir -p "$work/src" "$work/gnupg"
chmod 700 "$work/gnupg"
(cd "$root" && git ls-files -z --cached --others --exclude-standard \
    | tar --null -T - --ignore-failed-read -cf -) | tar -xf - -C "$work/src"

export GNUPGHOME="$work/gnupg"
gpg --batch --quiet --passphrase '' --quick-generate-key \
    "mcp-secure release-check (throwaway) <release-check@invalid>" ed25519 sign 1d 2>/dev/null
key=$(gpg --batch --with-colons --list-secret-keys | awk -F: '$1 == "fpr" { print $10; exit }')
[[ -n "$key" ]] || { echo "release-check: gpg made no key" >&2; exit 2; }

modules=$(IFS=,; echo "${poms_only[*]},${published[*]}")
offline=()
[[ -n "${RELEASE_CHECK_OFFLINE:-}" ]] && offline=(-o)
if ! (cd "$work/src" && ./mvnw -B -q "${offline[@]}" -Prelease -DskipTests -DskipITs -Dgpg.keyname="$key" -pl "$modules" verify \
        >"$work/build.log" 2>&1); then
    tail -40 "$work/build.log" >&2
    echo "release-check: the second build (release profile) failed; its log is above" >&2
    exit 1
fi

compared=0
for module in "${poms_only[@]}" "${published[@]}"; do
    while read -r file; do
        if [[ ! -f "$work/src/$file" ]]; then
            problem "the second build made no $file"
        elif ! cmp -s "$root/$file" "$work/src/$file"; then
            problem "$file differs between two builds of the same sources (not reproducible; or this tree's target/ is stale: ./mvnw -B clean verify)"
        fi
        compared=$((compared + 1))
    done < <(artifacts "$module" "$work/src")
done

# 3. Every artifact signed, every signature good with the throwaway key.
verify() {
    gpg --batch --status-fd 1 --verify "$1" "$2" 2>/dev/null | grep -q "^\[GNUPG:\] VALIDSIG $key "
}
signed=0
for module in "${poms_only[@]}" "${published[@]}"; do
    name=$(sed -n 's:^  <artifactId>\(.*\)</artifactId>$:\1:p' "$work/src/$module/pom.xml" | head -1)
    files=("$work/src/$module/pom.xml=$work/src/$module/target/$name-$version.pom.asc")
    while read -r file; do
        files+=("$work/src/$file=$work/src/$file.asc")
    done < <(artifacts "$module" "$work/src")
    for pair in "${files[@]}"; do
        data=${pair%%=*} signature=${pair#*=}
        if [[ ! -f "$signature" ]]; then
            problem "no signature ${signature#"$work/src/"}"
        elif ! verify "$signature" "$data"; then
            problem "${signature#"$work/src/"} does not verify with the release key"
        else
            signed=$((signed + 1))
        fi
    done
done

# A signature that verifies anything proves nothing: a changed jar must fail.
tampered="$work/tampered.jar"
jar="$work/src/mcp-secure-core/target/mcp-secure-core-$version.jar"
cp "$jar" "$tampered" && printf 'x' >>"$tampered"
if verify "$jar.asc" "$tampered"; then
    problem "a changed mcp-secure-core jar still verified; the signature check proves nothing"
fi

((problems == 0)) || exit 1
echo "release-check: $compared artifacts identical in two builds; $signed signatures verified with throwaway key ${key: -16}"
