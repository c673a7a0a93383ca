#!/usr/bin/env bash
# Webhook delivery benchmark on both databases (a measuring tool, not a test):
#
#   bench/webhooks.sh [--binary PATH] [--events N] [--writers W] [--idle-subscriptions S]
#
# For each backend: a fresh database, the release server with webhooks allowed to reach
# loopback (OES_WEBHOOK_ALLOW_INSECURE=true, development only), a staff account, then
# bench/webhooks.py: N structures created by W writers while their `structure.created`
# events are delivered to a local receiver. Writes bench/results-webhooks.md with the
# machine's load average. Everything runs on 127.0.0.1 only.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=""
EVENTS=2000
WRITERS=8
IDLE=0
while (($#)); do
    case $1 in
        --binary) BIN=${2:?}; shift 2 ;;
        --events) EVENTS=${2:?}; shift 2 ;;
        --writers) WRITERS=${2:?}; shift 2 ;;
        --idle-subscriptions) IDLE=${2:?}; shift 2 ;;
        *) echo "usage: $0 [--binary PATH] [--events N] [--writers W] [--idle-subscriptions S]" >&2; exit 2 ;;
    esac
done
if [[ -z $BIN ]]; then
    (cd "$REPO" && cargo build --release -p api >&2)
    BIN=${CARGO_TARGET_DIR:-$REPO/target}/release/oes
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/oes-webhook-bench.XXXXXX")
SERVER=""
PG_ADMIN=postgres://postgres@127.0.0.1:5432/postgres
cleanup() {
    [[ -n $SERVER ]] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS oes_webhook_bench WITH (FORCE)" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
RESULTS=$REPO/bench/results-webhooks.md
{
    echo "# OES API webhook delivery benchmark"
    echo
    echo "- $(date -u '+%Y-%m-%d %H:%M') UTC, binary $BIN; $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- $EVENTS structures created by $WRITERS concurrent writers (POST /v1/structures), each one \`structure.created\` event to a local receiver answering 204"
    echo
} >"$RESULTS"
for backend in sqlite postgres; do
    if [[ $backend == sqlite ]]; then
        url="sqlite://$WORK/bench.db"
    else
        psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS oes_webhook_bench WITH (FORCE)"
        psql "$PG_ADMIN" -qc "CREATE DATABASE oes_webhook_bench"
        url=postgres://postgres@127.0.0.1:5432/oes_webhook_bench
    fi
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    export OES_DATABASE_URL=$url OES_DATA_DIR=$WORK/data-$backend OES_LOG=warn \
        OES_RATE_LIMIT_PER_CALLER=0 OES_SIGN_IN_LIMIT_PER_IP=0 OES_SIGN_IN_LIMIT_PER_ACCOUNT=0 \
        OES_WEBHOOK_ALLOW_INSECURE=true OES_WEBHOOK_POLL_MS=${OES_WEBHOOK_POLL_MS:-250}
    "$BIN" migrate >/dev/null
    password=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
    printf '%s\n' "$password" | "$BIN" admin create --email staff@example.org --role staff --password-stdin >/dev/null
    OES_BIND=127.0.0.1:$port "$BIN" serve >"$WORK/server-$backend.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 1; done
    token=$(curl -sf "http://127.0.0.1:$port/v1/auth/token" -d grant_type=password \
        -d username=staff@example.org --data-urlencode "password=$password" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
    line=$(python3 "$REPO/bench/webhooks.py" "http://127.0.0.1:$port" "$token" \
        --events "$EVENTS" --writers "$WRITERS" --idle-subscriptions "$IDLE")
    echo "$backend: $line" >&2
    echo "- **$backend**: $line" >>"$RESULTS"
    kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
done
echo >>"$RESULTS"
echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RESULTS"
cat "$RESULTS"
