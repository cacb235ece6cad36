#!/usr/bin/env bash
# The tests: everything CI runs, in order of speed.
#   0. the SQL generated from the KPI registry is what is committed (scripts/generate.py
#      --check), and the GitHub workflow is linted (zizmor; actionlint where it installs:
#      scripts/lint-workflow.sh)
#   1. formatting, clippy, the pure KPI algorithms (cargo test, crates/kpi_core) and a
#      bounded fuzz of every state decoder
#   then for each PostgreSQL major (default: 15 and 18; or name them: scripts/test.sh 18):
#   2. in-server tests (cargo pgrx test, src/pg_tests.rs), in pgrx's own test cluster
#   3. golden files (tests/pg_regress), a smoke run of the benchmark suite and client-side
#      tests (pytest, tests/client) against the release build installed into that
#      PostgreSQL and a throwaway cluster, Apache Superset included (scripts/superset.sh
#      installs it once per machine)
#   4. on PostgreSQL 15: the aggregates on a Citus cluster (scripts/citus.sh), and the Debian
#      package built, checked with lintian, installed with apt, used, updated and removed
#      (scripts/package-test.sh)
#   5. the server logs of every cluster of the run: no backend terminated by a signal
# At the end (also when it fails) it prints the time each phase took.
# Works as root or as a user with sudo; installs what is missing first (scripts/setup.sh).
source "$(dirname "$0")/common.sh"
cd "$REPO_ROOT"

# Time per phase, printed at the end of the run, and when it fails: where the time goes.
RUN_START=$SECONDS
PHASE_NAME="setup: scripts/setup.sh"
PHASE_START=$SECONDS
PHASE_LOG=()
phase() {
    PHASE_LOG+=("$(printf '%6d s  %s' $((SECONDS - PHASE_START)) "$PHASE_NAME")")
    PHASE_NAME=$1
    PHASE_START=$SECONDS
}
print_phases() {
    phase end
    step "Time per phase (total $(((SECONDS - RUN_START) / 60)) min $(((SECONDS - RUN_START) % 60)) s)"
    printf '%s\n' "${PHASE_LOG[@]}"
}
trap print_phases EXIT

majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=("${PG_MAJORS[@]}")
for major in "${majors[@]}"; do pg_bin_of "$major" >/dev/null; done

"$REPO_ROOT/scripts/setup.sh" "${majors[@]}"
# Apache Superset for tests/client/test_superset.py, once per machine (a few minutes the first
# time, mostly downloads): in the background, while the builds below use the CPUs; the first
# pytest run waits for it
mkdir -p "$WORK_DIR"
"$REPO_ROOT/scripts/superset.sh" >"$WORK_DIR/superset-install.log" 2>&1 &
SUPERSET_INSTALL=$!
export SUPPORT_KPI_SUPERSET=$WORK_DIR/superset
superset_ready() {
    if [ -n "$SUPERSET_INSTALL" ]; then
        if ! wait "$SUPERSET_INSTALL"; then
            cat "$WORK_DIR/superset-install.log" >&2
            echo "error: installing Apache Superset failed (scripts/superset.sh)" >&2
            return 1
        fi
        SUPERSET_INSTALL=
    fi
}

phase "generated SQL check, workflow lint"
step "The SQL generated from registry/kpis.toml is the committed SQL (scripts/generate.py --check)"
python3 "$REPO_ROOT/scripts/generate.py" --check

"$REPO_ROOT/scripts/lint-workflow.sh"

phase "cargo fmt, cargo clippy"
step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (PostgreSQL ${majors[0]}): no warnings"
cargo clippy --all-targets --no-default-features --features "pg${majors[0]} pg_test" -- -D warnings
cargo clippy -p kpi_core --all-targets -- -D warnings

phase "cargo test -p kpi_core"
step "Pure KPI algorithms: cargo test -p kpi_core"
cargo test -p kpi_core

phase "fuzzing the state decoders"
step "Fuzzing every state decoder for ${KPI_FUZZ_SECONDS:=30} s (release build, millions of cases)"
KPI_FUZZ_SECONDS=$KPI_FUZZ_SECONDS KPI_FUZZ_MIN_CASES=1000000 \
    cargo test -p kpi_core --release --test fuzz -- --nocapture

# Logs of earlier runs must not fail this one.
mkdir -p "$WORK_DIR" && chmod 755 "$WORK_DIR"
rm -rf "$WORK_DIR"/test-* "$WORK_DIR"/regress "$WORK_DIR"/pgrx-test-data-* "$WORK_DIR"/multi-server "$WORK_DIR"/citus-cluster

test_major() {
    use_pg "$1"
    phase "PostgreSQL $1: cargo pgrx test"
    step "In-server tests: cargo pgrx test pg$1"
    local pgrx_data=$WORK_DIR/pgrx-test-data-$1
    "${SUDO[@]}" rm -rf "$pgrx_data"
    "${SUDO[@]}" install -d -o postgres -g postgres "$pgrx_data"
    cargo pgrx test "pg$1" --runas postgres --pgdata "$pgrx_data"

    phase "PostgreSQL $1: release build and install"
    install_extension

    local port=$((5480 + $1))
    step "Starting a throwaway PostgreSQL $1 cluster in $WORK_DIR/test-$1 (port $port)"
    cluster_start "test-$1" "$port"
    trap "cluster_stop test-$1; print_phases" EXIT

    phase "PostgreSQL $1: golden files"
    step "Golden-file regression tests on PostgreSQL $1: tests/pg_regress"
    "$REPO_ROOT/scripts/regress.sh"

    phase "PostgreSQL $1: benchmark smoke run"
    python_env
    step "Benchmark suite on PostgreSQL $1, smoke run on a tiny data set (bars are checked by bench/run.sh only)"
    psql -X -q -d postgres -c "CREATE DATABASE bench"
    psql -X -q -d bench -c "CREATE EXTENSION support_kpi"
    "$PYTHON" bench/bench.py --customers 2000 --tickets 20000 --window-rows 20000 \
        --group-rows 20000 --groups 2000 --groups-memory 5000 --text-customers 5000 --sla-tickets 2000 --runs 1 --no-write >"$WORK_DIR/bench-smoke-$1.log"
    echo "benchmark suite ran (output: $WORK_DIR/bench-smoke-$1.log)"

    phase "PostgreSQL $1: earlier releases built (cached per machine)"
    # the previous release, built from its commit, for the upgrade test
    local previous
    previous=$(previous_release)
    unset SUPPORT_KPI_PREVIOUS_PACKAGE SUPPORT_KPI_CURRENT_PACKAGE SUPPORT_KPI_RELEASE_0_3_PACKAGE
    if [ -n "$previous" ]; then
        SUPPORT_KPI_PREVIOUS_PACKAGE=$(build_release "$previous")
        export SUPPORT_KPI_PREVIOUS_PACKAGE SUPPORT_KPI_CURRENT_PACKAGE=$WORK_DIR/package-$1
        # 0.3.0, the last release where a boolean false counted as an event, for the test of
        # views made on it (built for 15 and 18)
        if [ "$previous" != 0.3.0 ] && grep -Eq "^0\.3\.0 .* $1( |$)" "$REPO_ROOT/sql/released/commits"; then
            SUPPORT_KPI_RELEASE_0_3_PACKAGE=$(build_release 0.3.0)
            export SUPPORT_KPI_RELEASE_0_3_PACKAGE
        fi
    else
        echo "no earlier release was built for PostgreSQL $1: the upgrade test will say so and not run"
    fi

    phase "PostgreSQL $1: pytest tests/client"
    superset_ready
    step "Client-side tests on PostgreSQL $1: pytest tests/client"
    "$PYTHON" -m pytest -q -p no:cacheprovider -rs tests/client

    cluster_stop "test-$1"
    trap print_phases EXIT
}

for major in "${majors[@]}"; do
    test_major "$major"
done

phase "Citus (scripts/citus.sh)"
# Citus 13.2 from the vendored source, on PostgreSQL 15 (needs ../shared/vendor; without it
# the script says the Citus test did not run)
case " ${majors[*]} " in
    *" 15 "*) "$REPO_ROOT/scripts/citus.sh" ;;
esac

phase "Debian packages (scripts/package-test.sh, scripts/package.sh 18)"
# The Debian package on the system PostgreSQL 15: built, lintian, apt-get install, used,
# updated from the previous release, apt-get remove (then this build is installed again)
case " ${majors[*]} " in
    *" 15 "*) "$REPO_ROOT/scripts/package-test.sh" ;;
esac
# the PostgreSQL 18 package is built and checked with lintian only: Debian 12 has no
# postgresql-18 to install it on
case " ${majors[*]} " in
    *" 18 "*) "$REPO_ROOT/scripts/package.sh" 18 >/dev/null ;;
esac

phase "server logs: no crashed backend"
step "Server logs of every cluster of this run: no crashed backend"
check_no_crash
echo "passed on PostgreSQL ${majors[*]}"
