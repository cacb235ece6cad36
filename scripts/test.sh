#!/usr/bin/env bash
# The tests: everything CI runs, in order of speed.
#   1. formatting, and the pure KPI algorithms (cargo test, crates/kpi_core)
#   2. in-server tests (cargo pgrx test, src/tests.rs), in pgrx's own test cluster
#   3. golden files (tests/pg_regress), a smoke run of the benchmark suite and client-side
#      tests (pytest, tests/client) against the release build installed into Debian's
#      PostgreSQL 15 and a throwaway cluster
# Works as root or as a user with sudo; installs what is missing first (scripts/setup.sh).
source "$(dirname "$0")/common.sh"
cd "$REPO_ROOT"

"$REPO_ROOT/scripts/setup.sh"

step "cargo fmt --check"
cargo fmt --all -- --check

step "Pure KPI algorithms: cargo test -p kpi_core"
cargo test -p kpi_core

# Logs of earlier runs must not fail this one.
rm -rf "$WORK_DIR/test" "$WORK_DIR/regress"

step "In-server tests: cargo pgrx test pg15"
mkdir -p "$WORK_DIR" && chmod 755 "$WORK_DIR"
pgrx_data=$WORK_DIR/pgrx-test-data
"${SUDO[@]}" rm -rf "$pgrx_data"
"${SUDO[@]}" install -d -o postgres -g postgres "$pgrx_data"
cargo pgrx test pg15 --runas postgres --pgdata "$pgrx_data"

install_extension

TEST_PORT=${TEST_PORT:-5492}
step "Starting a throwaway PostgreSQL 15 cluster in $WORK_DIR/test (port $TEST_PORT)"
cluster_start test "$TEST_PORT"
trap 'cluster_stop test' EXIT

step "Golden-file regression tests: tests/pg_regress"
"$REPO_ROOT/scripts/regress.sh"

python_env
step "Benchmark suite, smoke run on a tiny data set (bars are checked by bench/run.sh only)"
psql -X -q -d postgres -c "CREATE DATABASE bench"
psql -X -q -d bench -c "CREATE EXTENSION support_kpi"
"$PYTHON" bench/bench.py --customers 2000 --tickets 20000 --window-rows 20000 --runs 1 --no-write >"$WORK_DIR/bench-smoke.log"
echo "benchmark suite ran (output: $WORK_DIR/bench-smoke.log)"

step "Client-side tests: pytest tests/client"
"$PYTHON" -m pytest -q -p no:cacheprovider tests/client

step "Server logs of every cluster of this run: no crashed backend"
cluster_stop test
check_no_crash
