#!/usr/bin/env bash
# Apache Superset for tests/client/test_superset.py: a virtualenv under the work dir with every
# package pinned (tests/superset/requirements.txt), installed once per machine and again only
# when the requirements change; and Debian's Chromium with its WebDriver, for the dashboard
# screenshot. test.sh runs it and exports SUPPORT_KPI_SUPERSET (the venv). With --dashboard it
# also builds the extension, starts a throwaway PostgreSQL 15 and runs the Superset test, which
# leaves a screenshot of its dashboard.
source "$(dirname "$0")/common.sh"

requirements=$REPO_ROOT/tests/superset/requirements.txt
venv=$WORK_DIR/superset
stamp=$(sha256sum "$requirements" | cut -d' ' -f1)
apt_install chromium chromium-driver
if [ ! -x "$venv/bin/superset" ] || [ "$(cat "$venv/requirements.sha256" 2>/dev/null)" != "$stamp" ]; then
    step "Installing Apache Superset into $venv (once per machine)"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$requirements"
    "$venv/bin/pip" check >/dev/null
    echo "$stamp" >"$venv/requirements.sha256"
fi

# --dashboard: the test's dashboard over the demo database, on PostgreSQL 15 in a throwaway
# cluster, and its screenshot ($WORK_DIR/artifacts/superset-dashboard.png)
if [ "${1:-}" = "--dashboard" ]; then
    use_pg 15
    install_extension
    cluster_start superset-demo "${SUPERSET_DEMO_PORT:-5471}"
    trap "cluster_stop superset-demo" EXIT
    python_env
    step "Apache Superset over the demo database (tests/client/test_superset.py)"
    (cd "$REPO_ROOT/tests/client" && SUPPORT_KPI_SUPERSET=$venv "$PYTHON" -m pytest -q -p no:cacheprovider test_superset.py)
    echo "screenshot: $WORK_DIR/artifacts/superset-dashboard.png"
fi
