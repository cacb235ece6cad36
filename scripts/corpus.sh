#!/usr/bin/env bash
# Writes the stored-value corpus (tests/corpus/<version>.json, see scripts/corpus.py) of every
# released version built for PostgreSQL 15, or of the versions given: each release's package
# is built from its commit (build_release, kept for later runs), installed, and asked for its
# values in a fresh database. Run by hand when a version is released; the files are checked
# in, and tests/client/test_corpus.py reads them with the current library. Leaves the current
# build installed.
source "$(dirname "$0")/common.sh"
use_pg 15
python_env

versions=("$@")
if [ ${#versions[@]} -eq 0 ]; then
    mapfile -t versions < <(awk '!/^#/ && NF && / 15( |$)/ {print $1}' "$REPO_ROOT/sql/released/commits")
fi
CORPUS_PORT=${CORPUS_PORT:-5493}
cluster_start corpus "$CORPUS_PORT"
trap 'cluster_stop corpus; install_extension >/dev/null' EXIT
mkdir -p "$REPO_ROOT/tests/corpus"
for version in "${versions[@]}"; do
    package=$(build_release "$version")
    install_package "$package"
    db=corpus_${version//./_}
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    psql -X -q -d "$db" -c "CREATE EXTENSION support_kpi VERSION '$version'"
    "$PYTHON" "$REPO_ROOT/scripts/corpus.py" "host=$PGHOST port=$PGPORT user=postgres dbname=$db" \
        "$REPO_ROOT/tests/corpus/$version.json"
done
