#!/usr/bin/env bash
# The demo: installs what is missing, builds and installs support_kpi, starts a throwaway
# PostgreSQL cluster (15; SUPPORT_KPI_PG=18 for 18), loads the generated support database of demo/ and prints the
# monthly KPI report per segment with bands, the complaint-handling dashboard, the SLA report and
# the at-risk queue, then records the KPI
# history and draws it as a PNG chart. Safe to run again: it starts a fresh cluster.
source "$(dirname "$0")/common.sh"

"$REPO_ROOT/scripts/setup.sh"
install_extension

DEMO_PORT=${DEMO_PORT:-5491}
step "Starting a throwaway PostgreSQL $PG_MAJOR cluster in $WORK_DIR/demo (port $DEMO_PORT)"
cluster_start demo "$DEMO_PORT"

step "Loading the demo support database"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE demo"
psql -X -q -v ON_ERROR_STOP=1 -d demo \
    -c "CREATE EXTENSION support_kpi" \
    -f "$REPO_ROOT/demo/schema.sql" -f "$REPO_ROOT/demo/generate.sql"
psql -X -q -d demo -c "SELECT (SELECT count(*) FROM customers) AS customers, (SELECT count(*) FROM tickets) AS tickets,
                              (SELECT count(*) FROM contacts) AS contacts, (SELECT count(*) FROM interactions) AS interactions,
                              (SELECT count(*) FROM complaints) AS complaints, (SELECT count(*) FROM survey_answers) AS survey_answers"

step "Monthly KPI report per segment (demo/report.sql)"
psql -X -v ON_ERROR_STOP=1 -d demo -f "$REPO_ROOT/demo/report.sql"

step "Complaint-handling dashboard per month and segment (demo/complaints_report.sql)"
psql -X -v ON_ERROR_STOP=1 -d demo -f "$REPO_ROOT/demo/complaints_report.sql"

step "Business hours beside calendar time: medians per month and segment (demo/business_hours_report.sql)"
psql -X -v ON_ERROR_STOP=1 -d demo -f "$REPO_ROOT/demo/business_hours_report.sql"

step "SLAs per month and metric, and the queue of tickets about to breach (demo/sla_report.sql)"
psql -X -v ON_ERROR_STOP=1 -d demo -f "$REPO_ROOT/demo/sla_report.sql"

step "KPI history: recording the demo months (demo/history.sql), as pg_cron would month by month"
psql -X -q -v ON_ERROR_STOP=1 -d demo -f "$REPO_ROOT/demo/history.sql"
psql -X -v ON_ERROR_STOP=1 -d demo -f "$REPO_ROOT/demo/history_report.sql"

step "Drawing the history as a dashboard would (demo/chart.py)"
python_env
PGDATABASE=demo "$PYTHON" "$REPO_ROOT/demo/chart.py" --dbname demo --out "$WORK_DIR/demo/kpi_history.png" \
    --control-out "$WORK_DIR/demo/kpi_control_chart.png"

cat <<MSG
The charts:   $WORK_DIR/demo/kpi_history.png, $WORK_DIR/demo/kpi_control_chart.png
Explore it:   $PG_BIN/psql -h $PGHOST -p $PGPORT -U postgres demo
Stop it:      $(if [ "$(id -u)" -eq 0 ]; then echo "runuser -u postgres -- "; fi)$PG_BIN/pg_ctl -D $WORK_DIR/demo/data stop
MSG
