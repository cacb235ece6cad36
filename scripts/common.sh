# Shared by the project's scripts: where things live, how to run as root or as a sudoer,
# and a throwaway PostgreSQL 15 cluster on a port and socket directory of our own.
# Source it; do not run it.

set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGRX_VERSION=0.18.1
PG_BIN=/usr/lib/postgresql/15/bin
PG_CONFIG=$PG_BIN/pg_config
PG_REGRESS=/usr/lib/postgresql/15/lib/pgxs/src/test/regress/pg_regress
# Throwaway clusters live outside the checkout: the postgres user must be able to reach them.
WORK_DIR=${SUPPORT_KPI_WORK_DIR:-/tmp/support_kpi-$(id -un)}

export PATH="$HOME/.cargo/bin:$PATH"

if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi

step() { printf '\n==> %s\n' "$*"; }

# PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user.
as_pg_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Prepares a directory the cluster owner can write.
owner_dir() {
    mkdir -p "$1"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$1"; fi
}

# cluster_start NAME PORT: a fresh cluster in $WORK_DIR/NAME listening only on a Unix socket.
cluster_start() {
    local dir=$WORK_DIR/$1 port=$2
    cluster_stop "$1"
    rm -rf "$dir"
    mkdir -p "$WORK_DIR" && chmod 755 "$WORK_DIR"
    owner_dir "$dir"
    as_pg_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
    # RUST_BACKTRACE=1 as a hostile setting: errors must not show Rust backtraces anyway.
    as_pg_owner env RUST_BACKTRACE=1 "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-p $port -k $dir -c listen_addresses='' -c fsync=off -c max_worker_processes=8 -c max_parallel_workers=4" \
        start >/dev/null
    export PGHOST=$dir PGPORT=$port PGUSER=postgres
}

cluster_stop() {
    local dir=$WORK_DIR/$1
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_pg_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
}

# Builds the extension in release mode and installs it into Debian's PostgreSQL 15.
install_extension() {
    step "Building and installing support_kpi into PostgreSQL 15"
    local sudo_flag=()
    [ "$(id -u)" -eq 0 ] || sudo_flag=(--sudo)
    (cd "$REPO_ROOT" && cargo pgrx install --release --pg-config "$PG_CONFIG" "${sudo_flag[@]}")
    # The install scripts of released versions, so that a database can be created at an
    # earlier version and updated (ALTER EXTENSION support_kpi UPDATE) with the delta scripts
    # that cargo pgrx install copies from sql/.
    "${SUDO[@]}" install -m 644 "$REPO_ROOT"/sql/released/support_kpi--*.sql "$("$PG_CONFIG" --sharedir)/extension/"
}

# A Python virtualenv with the client-side test and demo dependencies.
python_env() {
    local venv=$WORK_DIR/venv
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv"
    fi
    if ! "$venv/bin/python" -c 'import psycopg, pytest' 2>/dev/null; then
        "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$REPO_ROOT/tests/client/requirements.txt"
    fi
    PYTHON=$venv/bin/python
}

# Fails when a server log of the test run shows a crashed backend.
check_no_crash() {
    local found
    found=$(grep -rl --include='*.log' -e 'terminated by signal' "$WORK_DIR" 2>/dev/null || true)
    if [ -n "$found" ]; then
        echo "error: a backend crashed during the tests, see:" >&2
        grep -r --include='*.log' -B2 -A2 -e 'terminated by signal' "$WORK_DIR" >&2 || true
        return 1
    fi
    echo "server logs: no backend terminated by a signal"
}
