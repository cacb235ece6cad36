#!/usr/bin/env bash
# The benchmark suite: builds and installs support_kpi, starts a throwaway cluster tuned for
# the data set, and runs bench/bench.py (arguments pass through, e.g. --runs 3, or
# --customers 10000 --tickets 100000 --no-write for a quick look).
source "$(dirname "$0")/../scripts/common.sh"

"$REPO_ROOT/scripts/setup.sh"
install_extension

BENCH_PORT=${BENCH_PORT:-5494}
step "Starting a throwaway PostgreSQL $PG_MAJOR cluster in $WORK_DIR/bench (port $BENCH_PORT)"
cluster_start bench "$BENCH_PORT"
trap 'cluster_stop bench' EXIT
psql -X -q -d postgres -c "ALTER SYSTEM SET shared_buffers = '2GB'" -c "ALTER SYSTEM SET work_mem = '64MB'" \
    -c "ALTER SYSTEM SET max_parallel_workers_per_gather = 2" -c "ALTER SYSTEM SET jit = off"
as_pg_owner "$PG_BIN/pg_ctl" -D "$WORK_DIR/bench/data" -w restart >/dev/null
psql -X -q -d postgres -c "CREATE DATABASE bench"
psql -X -q -d bench -c "CREATE EXTENSION support_kpi"

python_env
step "Benchmarks"
"$PYTHON" "$REPO_ROOT/bench/bench.py" "$@"
