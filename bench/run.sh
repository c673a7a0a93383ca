#!/usr/bin/env bash
# Load benchmark of the OES API (a measuring tool, not a test: it asserts nothing).
#
#   bench/run.sh [--backend sqlite|postgres|both] [--scale N] [--duration SECONDS]
#                [--connections C] [--rounds R] [--members M] [--performances P]
#                [--dossiers D] [--binary PATH]
#
# For each backend: a fresh database, `oes migrate`, `oes seed --scale N`, `oes serve`,
# an account that creates M structures through the API (and so belongs to M), then one
# wrk run per scenario, R rounds of the reads (medians reported), the POST last. Prints
# a table per backend (with P performances seeded, 0 to leave them out: GET by id, the
# list of one département by date and its deep page, the iCalendar feed of the venue
# with the most published performances, the change feed read from the start, a sync
# batch; with D grant dossiers seeded, 0 to leave them out: GET a dossier, the list of
# submitted ones, a /check and a POST by an API client) and writes the same as Markdown to bench/results-<backend>.md, with the
# machine's load average: on a shared machine, compare the shares of /healthz
# in one run, not req/s between runs. --binary measures a binary built before (another
# commit's) instead of building this tree. Everything runs on 127.0.0.1 only.
set -euo pipefail

# ---------------------------------------------------------------------------- settings

BACKENDS=both
SCALE=100000
DURATION=10
CONNECTIONS=64
ROUNDS=1
MEMBERS=20000     # structures the "member" account creates, and so belongs to
PERFORMANCES=1000000  # performances seeded for the programming scenarios (0: none)
DOSSIERS=20000    # grant dossiers seeded for the grants scenarios (0: none)
BIN=""
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
    echo "Defaults: --backend $BACKENDS --scale $SCALE --duration $DURATION --connections $CONNECTIONS --rounds $ROUNDS --members $MEMBERS --performances $PERFORMANCES --dossiers $DOSSIERS"
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
            --rounds) ROUNDS=${2:?}; shift 2 ;;
            --members) MEMBERS=${2:?}; shift 2 ;;
            --performances) PERFORMANCES=${2:?}; shift 2 ;;
            --dossiers) DOSSIERS=${2:?}; shift 2 ;;
            --binary) BIN=${2:?}; shift 2 ;;
            -h|--help) usage; exit 0 ;;
            *) usage >&2; die "unknown argument: $1" ;;
        esac
    done
    case $BACKENDS in
        sqlite|postgres) ;;
        both) BACKENDS="sqlite postgres" ;;
        *) die "--backend must be sqlite, postgres or both" ;;
    esac
    [[ $PERFORMANCES =~ ^[0-9]+$ ]] || die "not a number: $PERFORMANCES"
    [[ $DOSSIERS =~ ^[0-9]+$ ]] || die "not a number: $DOSSIERS"
    for number in "$SCALE" "$DURATION" "$CONNECTIONS" "$ROUNDS" "$MEMBERS"; do
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
            # No TLS to a database on the same host: Debian's cluster offers it (with a
            # snakeoil certificate) and libpq takes it by default, which costs 13-15 % of
            # a read's instructions; docker compose's PostgreSQL offers none.
            echo "postgres://postgres@127.0.0.1:5432/$PG_DATABASE?sslmode=disable"
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

# Resident memory of the server now, in MB.
rss_mb() {
    awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$SERVER_PID/status"
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

# The same for performances: ids for GET by id, and the cursor of page DEEP_PAGE of the
# list of département 34 by date (performances-ids.txt, performances-deep-page).
collect_performance_inputs() {
    python3 - "$BASE" "$PAGE_SIZE" "$DEEP_PAGE" "$ID_COUNT" "$WORK" <<'PY'
import json, sys, urllib.parse, urllib.request

base, page_size, deep_page, id_count, work = sys.argv[1], *map(int, sys.argv[2:5]), sys.argv[5]
ids, cursor, number = [], None, 1
while number < deep_page:
    query = {"limit": page_size, "department": "34"}
    if cursor:
        query["cursor"] = cursor
    with urllib.request.urlopen(f"{base}/v1/performances?{urllib.parse.urlencode(query)}") as r:
        body = json.load(r)
    # What an anonymous list shows is published: every id answers 200 to anyone.
    ids.extend(item["id"] for item in body["data"][: id_count - len(ids)])
    if body["next_cursor"] is None:
        break
    cursor, number = body["next_cursor"], number + 1
if cursor is None:
    sys.exit("only one page of performances in 34: seed more with --performances")
with open(f"{work}/performances-ids.txt", "w") as f:
    f.write("\n".join(ids) + "\n")
with open(f"{work}/performances-deep-page", "w") as f:
    f.write(f"{number} {cursor}\n")
PY
}

# The grants scenarios' inputs, as staff see them: ids of ID_COUNT dossiers
# (dossiers-ids.txt), the benchmark's call (dossier-call) and, for the POST, the token
# of an API client with `dossiers:write` for member's first structure (filer-token).
collect_dossier_inputs() {
    python3 - "$BASE" "$ID_COUNT" "$WORK" "$STAFF_TOKEN" "$MEMBER_TOKEN" "$MEMBER_STRUCTURE" <<'PY'
import json, sys, urllib.parse, urllib.request

base, id_count, work, staff, member, structure = sys.argv[1], int(sys.argv[2]), *sys.argv[3:7]

def call(method, path, token=None, body=None, form=None):
    headers = {}
    data = None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request) as r:
        return json.load(r)

ids, cursor = [], None
while len(ids) < id_count:
    query = {"limit": 200}
    if cursor:
        query["cursor"] = cursor
    page = call("GET", f"/v1/dossiers?{urllib.parse.urlencode(query)}", staff)
    ids.extend(d["id"] for d in page["data"])
    cursor = page["next_cursor"]
    if not cursor:
        break
if not ids:
    sys.exit("no dossier: seed some with --dossiers")
with open(f"{work}/dossiers-ids.txt", "w") as f:
    f.write("\n".join(ids[:id_count]) + "\n")
call_id = call("GET", f"/v1/dossiers/{ids[0]}", staff)["call_id"]
made = call("POST", "/v1/api-clients", member, body={
    "name": "Bench filer", "structure_ids": [structure], "scopes": ["dossiers:write"]})
token = call("POST", "/v1/auth/token", form={
    "grant_type": "client_credentials", "client_id": made["client"]["id"],
    "client_secret": made["client_secret"]})["access_token"]
with open(f"{work}/dossier-call", "w") as f:
    f.write(call_id + "\n")
with open(f"{work}/filer-token", "w") as f:
    f.write(token + "\n")
PY
}

# Follows the change feed from the start for DURATION seconds, as a partner's follower
# would (pages of 200, one after another): prints entries per second.
follow_changes() {
    python3 - "$BASE" "$DURATION" "$READER_TOKEN" <<'PY'
import json, sys, time, urllib.parse, urllib.request

base, duration, token = sys.argv[1], float(sys.argv[2]), sys.argv[3]
entries, cursor, started = 0, None, time.monotonic()
while time.monotonic() - started < duration:
    query = {"limit": 200}
    if cursor:
        query["after"] = cursor
    request = urllib.request.Request(f"{base}/v1/changes?{urllib.parse.urlencode(query)}",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request) as r:
        body = json.load(r)
    entries += len(body["data"])
    if not body["data"]:
        break
    cursor = body["next_cursor"]
print(f"{entries / (time.monotonic() - started):.0f}")
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

# Results of the current backend: one entry per scenario, in run order; each holds the
# figures of every round, space-separated (the report shows their medians).
NAMES=() RPS=() P50=() P99=() ERRORS=()
ROUND=1

# The index of scenario NAME in NAMES, added if new.
scenario_index() {
    local i
    for i in "${!NAMES[@]}"; do
        [[ ${NAMES[i]} == "$1" ]] && { echo "$i"; return; }
    done
    echo "${#NAMES[@]}"
}

# measure NAME PATH [WRK_SCRIPT [SCRIPT_ARGS…]]
measure() {
    local name=$1 path=$2 i out
    i=$(scenario_index "$name")
    out="$WORK/wrk-$i-$ROUND.txt"
    local target=("$BASE$path")
    if (($# > 2)); then
        target=(-s "$3" "$BASE$path" -- "${@:4}")
    fi
    log "$name (round $ROUND): ${DURATION}s, $CONNECTIONS connections"
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "${target[@]}" >"$out"
    read -r rps p50 p99 errors < <(parse_wrk "$out")
    NAMES[i]=$name
    RPS[i]="${RPS[i]:-} $rps" P50[i]="${P50[i]:-} $p50" P99[i]="${P99[i]:-} $p99"
    ERRORS[i]=$(( ${ERRORS[i]:-0} + errors ))
}

# The median of numbers given as one space-separated string (the lower middle one of an
# even count).
median() {
    tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# sign_in NAME: makes the account NAME@example.org and prints an access token for it.
sign_in() {
    local password=benchmark-password-long-enough email="$1@example.org"
    curl -sf -X POST -H 'Content-Type: application/json' "$BASE/v1/accounts" \
        -d "{\"email\":\"$email\",\"display_name\":\"$1\",\"password\":\"$password\"}" >/dev/null
    curl -sf "$BASE/v1/auth/token" -d grant_type=password -d "username=$email" \
        -d "password=$password" | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

# Memberships of the account NAME@example.org, read from the database.
memberships_of() {
    local query="SELECT count(*) FROM memberships JOIN accounts ON accounts.id = memberships.account_id WHERE accounts.email = '$2@example.org'"
    case $1 in
        postgres) "${PG_ADMIN[@]}" -d "$PG_DATABASE" -tA -c "$query" ;;
        sqlite) python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' \
            "${OES_DATABASE_URL#sqlite://}" "$query" ;;
    esac
}

# The venue structure with the most published performances (those its iCalendar feed
# holds), read from the database: "ID COUNT".
busiest_venue() {
    local query="SELECT venue_structure_id, count(*) FROM performances WHERE venue_structure_id IS NOT NULL AND published GROUP BY venue_structure_id ORDER BY count(*) DESC, venue_structure_id LIMIT 1"
    case $1 in
        postgres) "${PG_ADMIN[@]}" -d "$PG_DATABASE" -tA -F ' ' -c "$query" ;;
        sqlite) python3 -c 'import sqlite3, sys; print(*sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone())' \
            "${OES_DATABASE_URL#sqlite://}" "$query" ;;
    esac
}

# Two callers besides anonymous ones: "reader", who belongs to nothing, and "member", who
# creates MEMBERS structures through the API and so belongs to them all (agency staff
# and networks belong to thousands): a request must cost the same whoever makes it.
make_callers() {
    local backend=$1 count
    READER_TOKEN=$(sign_in reader)
    MEMBER_TOKEN=$(sign_in member)
    check_ok -X POST -H 'Content-Type: application/json' -H "Authorization: Bearer $MEMBER_TOKEN" \
        -d "$POST_BODY" "$BASE/v1/structures"
    MEMBER_STRUCTURE=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' "$WORK/check.out")
    log "$backend: member creates $MEMBERS structures"
    count=$(memberships_of "$backend" member)
    # wrk runs for its whole duration even when every thread has stopped: short runs
    # until the count is reached.
    while ((count < MEMBERS)); do
        wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d5s -s "$BENCH_DIR/create-many.lua" "$BASE/v1/structures" \
            -- "$POST_BODY" "$MEMBER_TOKEN" "$((MEMBERS - count))" "$WRK_THREADS" >"$WORK/create-many.txt"
        local before=$count
        count=$(memberships_of "$backend" member)
        ((count > before)) || { cat "$WORK/create-many.txt" >&2; die "member stays at $count structures"; }
    done
    MEMBER_COUNT=$count
    if ((DOSSIERS > 0)); then
        local password=benchmark-password-long-enough
        printf '%s\n' "$password" | "$BIN" admin create --email staff@example.org --role staff \
            --name Staff --password-stdin >/dev/null
        STAFF_TOKEN=$(curl -sf "$BASE/v1/auth/token" -d grant_type=password \
            -d username=staff@example.org -d "password=$password" |
            python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
    fi
}

run_scenarios() {
    local deep_number deep_cursor round
    read -r deep_number deep_cursor <"$WORK/deep-page"
    local id
    id=$(head -n1 "$WORK/ids.txt")

    check_ok "$BASE/v1/structures/$id"
    check_ok -H "Authorization: Bearer $READER_TOKEN" "$BASE/v1/structures/$id"
    check_ok -H "Authorization: Bearer $MEMBER_TOKEN" "$BASE/v1/structures/$id"
    check_ok "$BASE/v1/structures?limit=$PAGE_SIZE&department=34"
    check_ok "$BASE/v1/structures?limit=$PAGE_SIZE&cursor=$deep_cursor"
    check_ok -H "Authorization: Bearer $MEMBER_TOKEN" "$BASE/v1/structures?limit=$PAGE_SIZE"

    for round in $(seq "$ROUNDS"); do
        ROUND=$round
        # healthz first: no database, so it is the ceiling the other rates are compared to.
        measure "healthz (ceiling)" /healthz
        measure "GET by id, anonymous" / "$BENCH_DIR/by-id.lua" "$WORK/ids.txt"
        measure "GET by id, signed in" / "$BENCH_DIR/by-id.lua" "$WORK/ids.txt" "$READER_TOKEN"
        measure "GET by id, member of $MEMBER_COUNT" / "$BENCH_DIR/by-id.lua" "$WORK/ids.txt" "$MEMBER_TOKEN"
        measure "list, department=34" "/v1/structures?limit=$PAGE_SIZE&department=34"
        measure "list, first page" "/v1/structures?limit=$PAGE_SIZE"
        measure "list, page $deep_number" "/v1/structures?limit=$PAGE_SIZE&cursor=$deep_cursor"
        measure "list, first page, member of $MEMBER_COUNT" "/v1/structures?limit=$PAGE_SIZE" \
            "$BENCH_DIR/get.lua" "$MEMBER_TOKEN"
    done
    if ((PERFORMANCES > 0)); then
        local pdeep_number pdeep_cursor pid venue published venue_events
        read -r pdeep_number pdeep_cursor <"$WORK/performances-deep-page"
        read -r venue published <"$WORK/venue"
        pid=$(head -n1 "$WORK/performances-ids.txt")
        check_ok "$BASE/v1/performances/$pid"
        check_ok "$BASE/v1/performances?limit=$PAGE_SIZE&department=34&cursor=$pdeep_cursor"
        check_ok "$BASE/v1/performances.ics?venue=$venue"
        grep -q '^BEGIN:VCALENDAR' "$WORK/check.out" || die "the iCalendar feed is no calendar"
        # What the feed holds (the list's default filters apply), not what was counted.
        venue_events=$(grep -c '^BEGIN:VEVENT' "$WORK/check.out" || true)
        ((venue_events > 0)) || die "the feed of venue $venue ($published published) holds no event"
        VENUE_FEED="venue $venue: $venue_events events ($published published performances), $(wc -c <"$WORK/check.out") bytes"
        for round in $(seq "$ROUNDS"); do
            ROUND=$round
            measure "performance by id, anonymous" / "$BENCH_DIR/by-id.lua" \
                "$WORK/performances-ids.txt" - /v1/performances
            measure "performance by id, signed in" / "$BENCH_DIR/by-id.lua" \
                "$WORK/performances-ids.txt" "$READER_TOKEN" /v1/performances
            measure "performances, department=34 by date" \
                "/v1/performances?limit=$PAGE_SIZE&department=34"
            measure "performances, department=34, page $pdeep_number" \
                "/v1/performances?limit=$PAGE_SIZE&department=34&cursor=$pdeep_cursor"
            measure "iCalendar feed of a venue ($venue_events events)" \
                "/v1/performances.ics?venue=$venue"
        done
        log "change feed from the start: ${DURATION}s"
        FEED_RATE=$(follow_changes)
        log "sync batches of 1,000 items"
        python3 "$BENCH_DIR/sync-batch.py" "$BASE" >"$WORK/sync-batch.txt"
        SYNC_BATCH=$(paste -sd';' "$WORK/sync-batch.txt")
    fi
    if ((DOSSIERS > 0)); then
        local did call filer dossier_body
        did=$(head -n1 "$WORK/dossiers-ids.txt")
        call=$(cat "$WORK/dossier-call")
        filer=$(cat "$WORK/filer-token")
        dossier_body="{\"call_id\":\"$call\",\"applicant_id\":\"$MEMBER_STRUCTURE\",\"title\":\"Tournée d'hiver\",\"answers\":{\"audience\":\"tout public\"},\"budget\":{\"expenses\":[{\"category\":\"artistic_pay\",\"amount_cents\":300000}],\"incomes\":[{\"category\":\"fees\",\"amount_cents\":200000},{\"category\":\"agency_request\",\"amount_cents\":100000}]}}"
        check_ok -H "Authorization: Bearer $STAFF_TOKEN" "$BASE/v1/dossiers/$did"
        check_ok -H "Authorization: Bearer $STAFF_TOKEN" "$BASE/v1/dossiers?limit=$PAGE_SIZE&status=submitted"
        check_ok -X POST -H "Authorization: Bearer $STAFF_TOKEN" "$BASE/v1/dossiers/$did/check"
        check_ok -X POST -H 'Content-Type: application/json' -H "Authorization: Bearer $filer" \
            -d "$dossier_body" "$BASE/v1/dossiers"
        for round in $(seq "$ROUNDS"); do
            ROUND=$round
            measure "dossier by id, staff" / "$BENCH_DIR/by-id.lua" \
                "$WORK/dossiers-ids.txt" "$STAFF_TOKEN" /v1/dossiers
            measure "dossiers, status=submitted" "/v1/dossiers?limit=$PAGE_SIZE&status=submitted" \
                "$BENCH_DIR/get.lua" "$STAFF_TOKEN"
            measure "dossier /check, staff" / "$BENCH_DIR/check.lua" \
                "$WORK/dossiers-ids.txt" "$STAFF_TOKEN"
        done
        ROUND=1
        measure "POST dossier, API client" /v1/dossiers "$BENCH_DIR/post.lua" "$dossier_body" "$filer"
    fi
    # POST last, once: the rows it adds would otherwise change what the reads see. As
    # "reader", so that "member" keeps its count.
    ROUND=1
    measure "POST structure" /v1/structures "$BENCH_DIR/post.lua" "$POST_BODY" "$READER_TOKEN"
}

# ------------------------------------------------------------------------------ report

percent() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b > 0 ? 100 * a / b : 0) }'; }

# The deep page of performances against the first, by p50 latency (see run_scenarios).
performance_deep_name() {
    local i
    for i in "${!NAMES[@]}"; do
        [[ ${NAMES[i]} == "performances, department=34, page "* ]] && echo "${NAMES[i]#performances, department=34, }"
    done
}
performance_deep_ratio() {
    local i first="" deep=""
    for i in "${!NAMES[@]}"; do
        [[ ${NAMES[i]} == "performances, department=34 by date" ]] && first=$(median "${P50[i]}")
        [[ ${NAMES[i]} == "performances, department=34, page "* ]] && deep=$(median "${P50[i]}")
    done
    percent "$deep" "$first"
}

# report BACKEND PEAK_RSS_MB SEED_SECONDS LOAD_BEFORE LOAD_AFTER: prints the table and
# writes the Markdown.
report() {
    local backend=$1 rss=$2 seed_seconds=$3 load_before=$4 load_after=$5 i
    local rps=() p50=() p99=()
    for i in "${!NAMES[@]}"; do
        rps[i]=$(median "${RPS[i]}") p50[i]=$(median "${P50[i]}") p99[i]=$(median "${P99[i]}")
    done
    local ceiling=${rps[0]} first deep deep_vs_first
    # The first and the deep page, by name (see run_scenarios).
    first=$(scenario_index "list, first page")
    for i in "${!NAMES[@]}"; do
        [[ ${NAMES[i]} == "list, page "* ]] && deep=$i
    done
    deep_vs_first=$(percent "${p50[deep]}" "${p50[first]}")
    local md="$BENCH_DIR/results-$backend.md"

    printf '\n%s — %s structures, %ss per scenario, %s connections, median of %s round(s)\n' \
        "$backend" "$SCALE" "$DURATION" "$CONNECTIONS" "$ROUNDS"
    printf 'load average before: %s; after: %s\n' "$load_before" "$load_after"
    printf '%-40s %10s %9s %9s %8s %12s\n' scenario "req/s" "p50 ms" "p99 ms" errors "% ceiling"
    for i in "${!NAMES[@]}"; do
        printf '%-40s %10s %9s %9s %8s %11s%%\n' "${NAMES[i]}" "${rps[i]}" "${p50[i]}" \
            "${p99[i]}" "${ERRORS[i]}" "$(percent "${rps[i]}" "$ceiling")"
    done
    printf '%s vs first page: %s %%\n' "${NAMES[deep]#list, }" "$deep_vs_first"
    if [[ -n $FEED_RATE ]]; then
        printf 'performances: %s seeded in %ss; %s vs first page: %s %%; change feed from the start: %s entries/s\n' \
            "$PERFORMANCES" "$PERFORMANCE_SEED_SECONDS" "$(performance_deep_name)" "$(performance_deep_ratio)" "$FEED_RATE"
        printf 'sync: %s\n' "$SYNC_BATCH"
        printf 'iCalendar feed: %s\n' "$VENUE_FEED"
    fi
    if ((DOSSIERS > 0)); then
        printf 'dossiers: %s seeded in %ss\n' "$DOSSIERS" "$DOSSIER_SEED_SECONDS"
    fi
    printf 'peak RSS: %s MB; idle after start: %s MB\n\n' "$rss" "$IDLE_RSS"

    {
        echo "# OES API benchmark: $backend"
        echo
        echo "- $(date -u '+%Y-%m-%d %H:%M UTC'), built from $BUILT_FROM"
        echo "- $SCALE structures seeded in ${seed_seconds}s; $(nproc) cores; load average before: $load_before, after: $load_after"
        echo "- \"member\" belongs to $MEMBER_COUNT structures (made through the API); \"signed in\" is an account that belongs to none"
        echo "- wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s --latency, one scenario after another; reads: median of $ROUNDS round(s)"
        echo
        echo "| scenario | req/s | p50 ms | p99 ms | errors | % of healthz |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: |"
        for i in "${!NAMES[@]}"; do
            echo "| ${NAMES[i]} | ${rps[i]} | ${p50[i]} | ${p99[i]} | ${ERRORS[i]} | $(percent "${rps[i]}" "$ceiling") % |"
        done
        echo
        echo "${NAMES[deep]#list, } vs first page: $deep_vs_first % (p50 latency)"
        echo
        if [[ -n $FEED_RATE ]]; then
            echo
            echo "performances: $PERFORMANCES seeded in ${PERFORMANCE_SEED_SECONDS}s; $(performance_deep_name) vs first page: $(performance_deep_ratio) % (p50 latency); change feed read from the start: $FEED_RATE entries/s"
            echo
            echo "sync: $SYNC_BATCH"
            echo
            echo "iCalendar feed of a venue: $VENUE_FEED"
        fi
        if ((DOSSIERS > 0)); then
            echo
            echo "dossiers: $DOSSIERS seeded in ${DOSSIER_SEED_SECONDS}s"
        fi
        echo
        echo "peak RSS: $rss MB; idle after start: $IDLE_RSS MB"
    } >"$md"
    log "wrote ${md#"$REPO"/}"
}

# -------------------------------------------------------------------------------- main

bench_backend() {
    local backend=$1 port started seed_seconds rss load_before load_after
    NAMES=() RPS=() P50=() P99=() ERRORS=()
    load_before=$(cut -d' ' -f1-3 /proc/loadavg)
    port=$(free_port)
    BASE="http://127.0.0.1:$port"
    # The per-caller rate limit is policy, not capacity: off while measuring capacity.
    # Tokens outlive a long run.
    export OES_DATABASE_URL OES_BIND="127.0.0.1:$port" OES_LOG=warn OES_DATA_DIR="$WORK" \
        OES_RATE_LIMIT_PER_CALLER=0 OES_ACCESS_TOKEN_TTL=7200
    OES_DATABASE_URL=$(fresh_database "$backend")

    log "$backend: migrate"
    "$BIN" migrate
    log "$backend: seed --scale $SCALE"
    started=$SECONDS
    # info, not warn, for this command only: its progress lines are logged at info.
    OES_LOG=info "$BIN" seed --scale "$SCALE"
    seed_seconds=$((SECONDS - started))
    PERFORMANCE_SEED_SECONDS=0
    if ((PERFORMANCES > 0)); then
        log "$backend: seed --performances $PERFORMANCES"
        started=$SECONDS
        OES_LOG=info "$BIN" seed --performances "$PERFORMANCES"
        PERFORMANCE_SEED_SECONDS=$((SECONDS - started))
    fi
    DOSSIER_SEED_SECONDS=0
    if ((DOSSIERS > 0)); then
        log "$backend: seed --dossiers $DOSSIERS"
        started=$SECONDS
        OES_LOG=info "$BIN" seed --dossiers "$DOSSIERS"
        DOSSIER_SEED_SECONDS=$((SECONDS - started))
    fi
    analyze "$backend"

    log "$backend: serve on $BASE"
    start_server
    # Idle once settled: the server gives back what start-up freed 2 s after it starts
    # (api::memory); read before that, idle is start-up's high-water mark.
    sleep 3
    IDLE_RSS=$(rss_mb)
    make_callers "$backend"
    collect_inputs
    if ((PERFORMANCES > 0)); then
        collect_performance_inputs
        busiest_venue "$backend" >"$WORK/venue"
        [[ -s $WORK/venue ]] || die "no venue with published performances"
    fi
    if ((DOSSIERS > 0)); then
        collect_dossier_inputs
    fi
    FEED_RATE="" SYNC_BATCH="" VENUE_FEED=""
    run_scenarios
    rss=$(peak_rss_mb)
    stop_server
    load_after=$(cut -d' ' -f1-3 /proc/loadavg)
    report "$backend" "$rss" "$seed_seconds" "$load_before" "$load_after"
}

main() {
    parse_args "$@"
    if [[ -n $BIN ]]; then
        [[ -x $BIN ]] || die "not an executable: $BIN"
        BUILT_FROM="the binary $BIN"
    else
        build_release
    fi
    ensure_wrk
    local backend
    for backend in $BACKENDS; do
        bench_backend "$backend"
    done
}

main "$@"
