#!/usr/bin/env bash
# The Citus test (run by scripts/test.sh on PostgreSQL 15): builds Citus 13.2.2 for
# PostgreSQL 15 from its source tarball (once, cached), and runs tests/client/test_citus.py,
# which starts a coordinator and two workers on Unix sockets under the work dir.
# The tarball is the vendored copy in ../shared/vendor, or, with
# SUPPORT_KPI_CITUS_DOWNLOAD=1 (as on GitHub), Citus's own release tarball, downloaded;
# either is checked against its sha256 (citus_tarball in scripts/common.sh). Without either,
# it says plainly that the Citus test did not run.
# Expects support_kpi installed into PostgreSQL 15 (scripts/test.sh has done it).
source "$(dirname "$0")/common.sh"
use_pg 15

if ! TARBALL=$(citus_tarball); then
    echo "Citus test NOT RUN: $CITUS_VENDOR/$CITUS.tar.gz not found (the vendored Citus source is outside the repository), and SUPPORT_KPI_CITUS_DOWNLOAD=1 was not given or the download failed"
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
    tar -xzf "$TARBALL" -C "$WORK_DIR"
    (
        cd "$WORK_DIR/$CITUS"
        # PostgreSQL 15.20 exports have_createdb_privilege(), which Citus 13.2.2 defines
        # again as a static function for PostgreSQL < 16: leave its copy out
        python3 - src/include/pg_version_compat.h <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
start = text.index("static inline bool\nhave_createdb_privilege(void)\n{")
end = text.index("\n}\n", start) + 3
open(path, "w").write(text[:start] + "/* have_createdb_privilege(): exported by PostgreSQL 15.20 */\n" + text[end:])
PY
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
