#!/usr/bin/env bash
# Golden-file tests (tests/pg_regress/sql/*.sql against expected/*.out) with PostgreSQL's
# pg_regress, on the cluster named by PGHOST/PGPORT. The layout is cargo pgrx regress's;
# this script drives pg_regress itself because cargo-pgrx 0.18 cannot start its own test
# cluster as root. Pass --accept to copy the actual outputs over the expected ones
# (then review the diff!).
source "$(dirname "$0")/common.sh"

out=$WORK_DIR/regress
rm -rf "$out" && mkdir -p "$out"
cd "$REPO_ROOT/tests/pg_regress"
tests=(setup $(ls sql | sed -n 's/\.sql$//p' | grep -v '^setup$' | sort))
status=0
"$PG_REGRESS" --bindir="$PG_BIN" --host="$PGHOST" --port="$PGPORT" --user=postgres --dbname=support_kpi_regress \
    --inputdir=. --outputdir="$out" "${tests[@]}" || status=$?
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS support_kpi_regress" >/dev/null
if [ "${1:-}" = "--accept" ]; then
    cp "$out"/results/*.out expected/
    echo "accepted: $(ls "$out"/results)"
elif [ $status -ne 0 ]; then
    cat "$out/regression.diffs" 2>/dev/null || true
fi
exit $status
