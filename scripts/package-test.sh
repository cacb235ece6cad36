#!/usr/bin/env bash
# The Debian package as a DBA uses it, on the system PostgreSQL 15 (needs root or sudo):
#   1. scripts/package.sh 15 builds it (lintian: no errors);
#   2. `apt-get install ./postgresql-15-support-kpi_...deb`;
#   3. in a fresh cluster: CREATE EXTENSION and an exact query against plain SQL; a database
#      created at the previous release with a stored summary, updated with ALTER EXTENSION
#      UPDATE, reads the summary the same;
#   4. `apt-get remove` leaves none of the package's files behind.
# Then the build of this checkout is installed again (scripts/common.sh install_package), as
# the rest of the test run expects it.
source "$(dirname "$0")/common.sh"
use_pg 15
name=postgresql-15-support-kpi
current=$(sed -n 's/^version = "\(.*\)"/\1/p' "$REPO_ROOT/Cargo.toml" | head -1)
previous=$(previous_release)

deb=$("$REPO_ROOT/scripts/package.sh" 15 | tail -1)
restore() {
    cluster_stop package-test
    if dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q "install ok installed"; then
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq "$name" >/dev/null || true
    fi
    if [ -d "$WORK_DIR/package-15" ]; then
        install_package "$WORK_DIR/package-15" >/dev/null
        install_file "$("$PG_CONFIG" --sharedir)/extension" 644 "$REPO_ROOT"/sql/released/support_kpi--*.sql "$REPO_ROOT"/sql/released/support_kpi--*.control
    fi
}
trap restore EXIT

step "apt-get install $(basename "$deb")"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$deb" >/dev/null
dpkg-query -W -f='${Status} ${Version}\n' "$name"
mapfile -t files < <(dpkg -L "$name" | while read -r f; do [ -f "$f" ] && echo "$f"; done)
echo "${#files[@]} files installed"
[ "$(readlink -f "$("$PG_CONFIG" --pkglibdir)/support_kpi.so")" = /usr/lib/postgresql/15/lib/support_kpi.so ]

cluster_start package-test 5479
step "CREATE EXTENSION from the package, and an exact query"
psql -X -q -d postgres -c "CREATE DATABASE pkg"
psql -X -q -v ON_ERROR_STOP=1 -d pkg -c "CREATE EXTENSION support_kpi"
got=$(psql -X -At -v ON_ERROR_STOP=1 -d pkg -c "SELECT extversion FROM pg_extension WHERE extname = 'support_kpi'")
[ "$got" = "$current" ] || { echo "error: extension version $got, expected $current" >&2; exit 1; }
exact=$(psql -X -At -v ON_ERROR_STOP=1 -d pkg -c "
    SELECT incident_rate(c, e) = count(e) * 1000.0 / count(DISTINCT c) AND incident_rate(c, e) = 750
    FROM (VALUES (1, 10), (1, 11), (2, NULL), (3, 12), (4, NULL)) v(c, e)")
[ "$exact" = t ] || { echo "error: incident_rate from the package differs from plain SQL" >&2; exit 1; }
echo "incident_rate = count(e) * 1000.0 / count(DISTINCT c): $exact"

if [ -n "$previous" ]; then
    step "ALTER EXTENSION support_kpi UPDATE from $previous, with a stored summary"
    psql -X -q -d postgres -c "CREATE DATABASE pkg_old"
    psql -X -q -v ON_ERROR_STOP=1 -d pkg_old \
        -c "CREATE EXTENSION support_kpi VERSION '$previous'" \
        -c "CREATE TABLE kpi_daily AS SELECT incident_summary(g % 7, g) AS s FROM generate_series(1, 100) g"
    before=$(psql -X -At -v ON_ERROR_STOP=1 -d pkg_old -c "SELECT incident_rate(s) FROM kpi_daily")
    psql -X -q -v ON_ERROR_STOP=1 -d pkg_old -c "ALTER EXTENSION support_kpi UPDATE"
    after=$(psql -X -At -v ON_ERROR_STOP=1 -d pkg_old -c "SELECT extversion || ' ' || incident_rate(s)
        FROM kpi_daily, pg_extension WHERE extname = 'support_kpi'")
    [ "$after" = "$current $before" ] || { echo "error: after the update: $after (expected $current $before)" >&2; exit 1; }
    echo "$previous -> $after"
else
    echo "no previous release for PostgreSQL 15: the update from the package was not tested"
fi
cluster_stop package-test

step "apt-get remove $name: no file left"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq "$name" >/dev/null
left=0
for f in "${files[@]}"; do
    if [ -e "$f" ]; then echo "left behind: $f" >&2; left=1; fi
done
[ "$left" = 0 ] || exit 1
if dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q "install ok installed"; then
    echo "error: $name is still installed" >&2
    exit 1
fi
echo "removed: none of its ${#files[@]} files is left"
echo "Debian package: built, lintian-clean, installed, used, updated from $previous and removed"
