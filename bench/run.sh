#!/usr/bin/env bash
# Load benchmark of the OES API (a measuring tool, not a test: it asserts nothing).
#
#   bench/run.sh [--backend sqlite|postgres|both] [--scale N] [--duration SECONDS]
#                [--connections C]
#
# For each backend: a fresh database, `oes migrate`, `oes seed --scale N`, `oes serve`,
# then one wrk run per scenario. Prints a table per backend and writes the same as
# Markdown to bench/results-<backend>.md. Everything runs on 127.0.0.1 only.
set -euo pipefail

# ---------------------------------------------------------------------------- settings

BACKENDS=both
SCALE=100000
DURATION=10
CONNECTIONS=64
WRK_THREADS=2     # the machine has 2 cores; more threads would only fight the server
PAGE_SIZE=50
DEEP_PAGE=1000    # how far keyset pagination is followed for the "deep page" scenario
ID_COUNT=1000     # ids the GET-by-id scenario picks from
FIRST_PORT=18080

# No SIRET: thousands of identical creations must not conflict on its uniqueness.
POST_BODY='{"kind":"company","name":"Compagnie Bench","address":{"postal_code":"34000","commune_code":"34172"},"disciplines":["theatre"]}'

PG_ADMIN=(env PGOPTIONS=--client-min-messages=warning psql -h 127.0.0.1 -p 5432 -U postgres -v ON_ERROR_STOP=1 -q -d postgres)
PG_DATABASE=oes_bench

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=$REPO/bench
WORK=$(mktemp -d "${TMPDIR:-/tmp}/oes-bench.XXXXXX")
SERVER_PID=""

usage() {
    sed -n '4,5p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    echo "Defaults: --backend $BACKENDS --scale $SCALE --duration $DURATION --connections $CONNECTIONS"
}

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

parse_args() {
    while (($#)); do
        case $1 in
            --backend) BACKENDS=${2:?}; shift 2 ;;
            --scale) SCALE=${2:?}; shift 2 ;;
            --duration) DURATION=${2:?}; shift 2 ;;
            --connections) CONNECTIONS=${2:?}; shift 2 ;;
            -h|--help) usage; exit 0 ;;
            *) usage >&2; die "unknown argument: $1" ;;
        esac
    done
    case $BACKENDS in
        sqlite|postgres) ;;
        both) BACKENDS="sqlite postgres" ;;
        *) die "--backend must be sqlite, postgres or both" ;;
    esac
    for number in "$SCALE" "$DURATION" "$CONNECTIONS"; do
        [[ $number =~ ^[1-9][0-9]*$ ]] || die "not a positive number: $number"
    done
}

# ------------------------------------------------------------------------------- setup

build_release() {
    log "building the release binary"
    (cd "$REPO" && cargo build --release -p api)
    # A relative CARGO_TARGET_DIR is relative to where cargo ran: the repository.
    local target=${CARGO_TARGET_DIR:-target}
    [[ $target = /* ]] || target=$REPO/$target
    BIN=$target/release/oes
    [[ -x $BIN ]] || die "no binary at $BIN after the build"
    # What was built: the tree may move on (or be edited) while the bench runs. Changes
    # under bench/ do not change the binary.
    BUILT_FROM=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
    if [[ -n $(git -C "$REPO" status --porcelain -- . ':(exclude)bench' 2>/dev/null) ]]; then
        BUILT_FROM+=" with uncommitted changes"
    fi
}

ensure_wrk() {
    command -v wrk >/dev/null && return
    log "installing wrk"
    # The package lists may be missing or stale on a fresh machine: refresh only then.
    apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
}

ensure_postgres() {
    pg_isready -q -h 127.0.0.1 -p 5432 && return
    log "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start
    for _ in $(seq 30); do
        pg_isready -q -h 127.0.0.1 -p 5432 && return
        sleep 1
    done
    die "PostgreSQL did not come up on 127.0.0.1:5432"
}

# Prints the URL of an empty database for the backend.
fresh_database() {
    case $1 in
        sqlite)
            mkdir -p "$WORK/sqlite"
            rm -f "$WORK/sqlite/bench.db"*
            echo "sqlite://$WORK/sqlite/bench.db"
            ;;
        postgres)
            ensure_postgres
            # FORCE: a server left over from an interrupted run may still hold connections.
            "${PG_ADMIN[@]}" -c "DROP DATABASE IF EXISTS $PG_DATABASE WITH (FORCE)" >&2
            "${PG_ADMIN[@]}" -c "CREATE DATABASE $PG_DATABASE" >&2
            echo "postgres://postgres@127.0.0.1:5432/$PG_DATABASE"
            ;;
    esac
}

# Planner statistics after the bulk load. PostgreSQL's autovacuum would gather them a
# minute or so after the seed (and it is off on some CI clusters); without them the
# planner guesses a few hundred rows and picks a sequential scan and sort for the keyset
# and filtered queries, so the bench would measure a state no long-running server is in.
# SQLite is left as the app leaves it: it has no automatic ANALYZE.
analyze() {
    [[ $1 == postgres ]] || return 0
    log "postgres: ANALYZE"
    "${PG_ADMIN[@]}" -d "$PG_DATABASE" -c ANALYZE >&2
}

# The first port from FIRST_PORT on that nothing listens on.
free_port() {
    local port
    for port in $(seq "$FIRST_PORT" $((FIRST_PORT + 100))); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    die "no free port in $FIRST_PORT..$((FIRST_PORT + 100))"
}

# ------------------------------------------------------------------------------ server

start_server() {
    "$BIN" serve >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 120); do
        curl -sf -o /dev/null "$BASE/readyz" && return
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; die "oes serve exited"; }
        sleep 0.5
    done
    cat "$WORK/server.log" >&2
    die "oes serve not ready after 60 s"
}

stop_server() {
    [[ -n $SERVER_PID ]] || return 0
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

# Peak resident memory of the server so far, in MB (VmHWM is the high-water mark).
peak_rss_mb() {
    awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$SERVER_PID/status"
}

cleanup() {
    stop_server
    rm -rf "$WORK"
}
trap cleanup EXIT

# ---------------------------------------------------------------------- request inputs

# Walks the unfiltered list with keyset pagination: keeps the first ID_COUNT ids for
# GET-by-id, and the cursor that fetches page DEEP_PAGE (or the last page, when the
# data set is smaller). Writes ids.txt and deep-page ("NUMBER CURSOR").
collect_inputs() {
    python3 - "$BASE" "$PAGE_SIZE" "$DEEP_PAGE" "$ID_COUNT" "$WORK" <<'PY'
import json, sys, urllib.parse, urllib.request

base, page_size, deep_page, id_count, work = sys.argv[1], *map(int, sys.argv[2:5]), sys.argv[5]

def page(cursor):
    query = {"limit": page_size}
    if cursor:
        query["cursor"] = cursor
    with urllib.request.urlopen(f"{base}/v1/structures?{urllib.parse.urlencode(query)}") as r:
        return json.load(r)

ids, cursor, number = [], None, 1
while number < deep_page:
    body = page(cursor)
    ids.extend(item["id"] for item in body["data"][: id_count - len(ids)])
    if body["next_cursor"] is None:
        break
    cursor, number = body["next_cursor"], number + 1
if cursor is None:
    sys.exit("only one page of structures: seed more with --scale")
with open(f"{work}/ids.txt", "w") as f:
    f.write("\n".join(ids) + "\n")
with open(f"{work}/deep-page", "w") as f:
    f.write(f"{number} {cursor}\n")
PY
}

# One request before measuring: a scenario that only returns errors would otherwise
# report a fast, meaningless rate.
check_ok() {
    local status
    status=$(curl -s -o "$WORK/check.out" -w '%{http_code}' "$@")
    [[ $status == 2?? ]] || { cat "$WORK/check.out" >&2; die "HTTP $status for: $*"; }
}

# ----------------------------------------------------------------------------- measure

# Latency as wrk prints it (850.00us, 1.20ms, 2.01s, 1.00m) in milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; unit = v; sub(/^[0-9.]+/, "", unit)
        factor = (unit == "us") ? 0.001 : (unit == "s") ? 1000 : (unit == "m") ? 60000 : 1
        printf "%.2f", n * factor
    }'
}

# "req/s p50 p99 errors" from wrk's output; errors = non-2xx/3xx + socket errors.
parse_wrk() {
    local rps p50 p99 errors
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$1")
    p50=$(awk '$1 == "50%" { print $2 }' "$1")
    p99=$(awk '$1 == "99%" { print $2 }' "$1")
    errors=$(awk '
        /Non-2xx or 3xx responses:/ { n += $NF }
        /Socket errors:/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 }
        END { print n + 0 }' "$1")
    [[ -n $rps && -n $p50 && -n $p99 ]] || { cat "$1" >&2; die "cannot read wrk's output"; }
    echo "$rps $(to_ms "$p50") $(to_ms "$p99") $errors"
}

# Results of the current backend, one entry per scenario, in run order.
NAMES=() RPS=() P50=() P99=() ERRORS=()

# measure NAME PATH [WRK_SCRIPT [SCRIPT_ARGS…]]
measure() {
    local name=$1 path=$2 out="$WORK/wrk-${#NAMES[@]}.txt"
    local target=("$BASE$path")
    if (($# > 2)); then
        target=(-s "$3" "$BASE$path" -- "${@:4}")
    fi
    log "$name: ${DURATION}s, $CONNECTIONS connections"
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "${target[@]}" >"$out"
    read -r rps p50 p99 errors < <(parse_wrk "$out")
    NAMES+=("$name") RPS+=("$rps") P50+=("$p50") P99+=("$p99") ERRORS+=("$errors")
}

# A bench account and its access token: creating a structure needs one.
sign_in() {
    local password=benchmark-password-long-enough
    curl -sf -X POST -H 'Content-Type: application/json' "$BASE/v1/accounts" \
        -d "{\"email\":\"bench@example.org\",\"display_name\":\"Bench\",\"password\":\"$password\"}" >/dev/null
    TOKEN=$(curl -sf "$BASE/v1/auth/token" -d grant_type=password -d username=bench@example.org \
        -d "password=$password" | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
}

run_scenarios() {
    local deep_number deep_cursor
    read -r deep_number deep_cursor <"$WORK/deep-page"

    check_ok "$BASE/v1/structures/$(head -n1 "$WORK/ids.txt")"
    check_ok "$BASE/v1/structures?limit=$PAGE_SIZE&department=34"
    check_ok "$BASE/v1/structures?limit=$PAGE_SIZE&cursor=$deep_cursor"
    check_ok -X POST -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
        -d "$POST_BODY" "$BASE/v1/structures"

    # healthz first: no database, so it is the ceiling the other rates are compared to.
    measure "healthz (ceiling)" /healthz
    measure "GET by id" / "$BENCH_DIR/by-id.lua" "$WORK/ids.txt"
    measure "list, department=34" "/v1/structures?limit=$PAGE_SIZE&department=34"
    measure "list, first page" "/v1/structures?limit=$PAGE_SIZE"
    measure "list, page $deep_number" "/v1/structures?limit=$PAGE_SIZE&cursor=$deep_cursor"
    # POST last: the rows it adds would otherwise change what the reads see.
    measure "POST structure" /v1/structures "$BENCH_DIR/post.lua" "$POST_BODY" "$TOKEN"
}

# ------------------------------------------------------------------------------ report

percent() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b > 0 ? 100 * a / b : 0) }'; }

# report BACKEND PEAK_RSS_MB SEED_SECONDS: prints the table and writes the Markdown.
report() {
    local backend=$1 rss=$2 seed_seconds=$3 i ceiling=${RPS[0]}
    local deep_vs_first
    # Entries 3 and 4 are the first and the deep page (see run_scenarios).
    deep_vs_first=$(percent "${P50[4]}" "${P50[3]}")
    local md="$BENCH_DIR/results-$backend.md"

    printf '\n%s — %s structures, %ss per scenario, %s connections\n' \
        "$backend" "$SCALE" "$DURATION" "$CONNECTIONS"
    printf '%-22s %10s %9s %9s %8s %12s\n' scenario "req/s" "p50 ms" "p99 ms" errors "% ceiling"
    for i in "${!NAMES[@]}"; do
        printf '%-22s %10s %9s %9s %8s %11s%%\n' "${NAMES[i]}" "${RPS[i]}" "${P50[i]}" \
            "${P99[i]}" "${ERRORS[i]}" "$(percent "${RPS[i]}" "$ceiling")"
    done
    printf '%s vs first page: %s %%\n' "${NAMES[4]#list, }" "$deep_vs_first"
    printf 'peak RSS: %s MB\n\n' "$rss"

    {
        echo "# OES API benchmark: $backend"
        echo
        echo "- $(date -u '+%Y-%m-%d %H:%M UTC'), built from $BUILT_FROM"
        echo "- $SCALE structures seeded in ${seed_seconds}s; $(nproc) cores"
        echo "- wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s --latency, one scenario after another"
        echo
        echo "| scenario | req/s | p50 ms | p99 ms | errors | % of healthz |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: |"
        for i in "${!NAMES[@]}"; do
            echo "| ${NAMES[i]} | ${RPS[i]} | ${P50[i]} | ${P99[i]} | ${ERRORS[i]} | $(percent "${RPS[i]}" "$ceiling") % |"
        done
        echo
        echo "${NAMES[4]#list, } vs first page: $deep_vs_first % (p50 latency)"
        echo
        echo "peak RSS: $rss MB"
    } >"$md"
    log "wrote ${md#"$REPO"/}"
}

# -------------------------------------------------------------------------------- main

bench_backend() {
    local backend=$1 port started seed_seconds rss
    NAMES=() RPS=() P50=() P99=() ERRORS=()
    port=$(free_port)
    BASE="http://127.0.0.1:$port"
    # The per-caller rate limit is policy, not capacity: off while measuring capacity.
    export OES_DATABASE_URL OES_BIND="127.0.0.1:$port" OES_LOG=warn OES_DATA_DIR="$WORK" \
        OES_RATE_LIMIT_PER_CALLER=0
    OES_DATABASE_URL=$(fresh_database "$backend")

    log "$backend: migrate"
    "$BIN" migrate
    log "$backend: seed --scale $SCALE"
    started=$SECONDS
    # info, not warn, for this command only: its progress lines are logged at info.
    OES_LOG=info "$BIN" seed --scale "$SCALE"
    seed_seconds=$((SECONDS - started))
    analyze "$backend"

    log "$backend: serve on $BASE"
    start_server
    sign_in
    collect_inputs
    run_scenarios
    rss=$(peak_rss_mb)
    stop_server
    report "$backend" "$rss" "$seed_seconds"
}

main() {
    parse_args "$@"
    build_release
    ensure_wrk
    local backend
    for backend in $BACKENDS; do
        bench_backend "$backend"
    done
}

main "$@"
