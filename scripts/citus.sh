#!/usr/bin/env bash
# The Citus test (run by scripts/test.sh on PostgreSQL 15): builds Citus 13.2.2 for
# PostgreSQL 15 from the vendored source in ../shared/vendor (once, cached), and runs
# tests/client/test_citus.py, which starts a coordinator and two workers on Unix sockets under
# the work dir. Without the vendored source it says plainly that the Citus test did not run.
# Expects support_kpi installed into PostgreSQL 15 (scripts/test.sh has done it).
source "$(dirname "$0")/common.sh"
use_pg 15

VENDOR=${SUPPORT_KPI_VENDOR:-$REPO_ROOT/../shared/vendor}
CITUS=citus-13.2.2
if [ ! -f "$VENDOR/$CITUS.tar.gz" ]; then
    echo "Citus test NOT RUN: $VENDOR/$CITUS.tar.gz not found (the vendored Citus source is outside the repository)"
    exit 0
fi

citus_build() {
    if [ -f "$("$PG_CONFIG" --pkglibdir)/citus.so" ] && [ -f "$WORK_DIR/$CITUS/.installed" ]; then
        return
    fi
    step "Building $CITUS for PostgreSQL 15 (about 70 s, once)"
    apt_install liblz4-dev libzstd-dev libkrb5-dev make gcc
    rm -rf "$WORK_DIR/$CITUS"
    mkdir -p "$WORK_DIR"
    tar -xzf "$VENDOR/$CITUS.tar.gz" -C "$WORK_DIR"
    (
        cd "$WORK_DIR/$CITUS"
        patch -p1 <"$VENDOR/$CITUS-pg15.20.patch"
        ./configure --without-libcurl PG_CONFIG="$PG_CONFIG" >configure.log
        make -j2 >make.log 2>&1
        "${SUDO[@]}" make install >install.log
    )
    touch "$WORK_DIR/$CITUS/.installed"
}

citus_build

python_env
step "Citus test: a coordinator and two workers (tests/client/test_citus.py)"
SUPPORT_KPI_CITUS=1 "$PYTHON" -m pytest -q -s -p no:cacheprovider -rxs "$REPO_ROOT/tests/client/test_citus.py" "$@"
