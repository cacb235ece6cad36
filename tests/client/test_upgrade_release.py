"""The previous release, as users have it, updated to this one on a running server.

scripts/test.sh builds the previous release's package (library, control file, install script)
from its commit (sql/released/commits) and passes it in SUPPORT_KPI_PREVIOUS_PACKAGE, with this
build's package in SUPPORT_KPI_CURRENT_PACKAGE. The test installs the previous release into
the server's directories, creates a database with it (user tables holding summaries of every
state type, a view over the aggregates, a customized band), keeps a session open that has the
previous library loaded, installs this build over it (atomically, as scripts/common.sh's
install_package does), checks that the open session keeps working, then runs
`ALTER EXTENSION support_kpi UPDATE` and checks that every stored summary reads the same, the
view works, the band is kept, and pg_dump/pg_restore after the update round-trips. It always
leaves this build installed."""

import os
import re
import subprocess
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from conftest import PG_BIN, conninfo

REPO = Path(__file__).resolve().parents[2]
PREVIOUS = os.environ.get("SUPPORT_KPI_PREVIOUS_PACKAGE")
CURRENT_VERSION = re.search(r'^version = "(.*)"', (REPO / "Cargo.toml").read_text(), re.M).group(1)
CURRENT = os.environ.get("SUPPORT_KPI_CURRENT_PACKAGE")

pytestmark = pytest.mark.skipif(
    not (PREVIOUS and CURRENT),
    reason="needs the previous release's package: scripts/test.sh builds it where that release was built "
           "for this PostgreSQL major (sql/released/commits)")

# Every state type of the previous release, stored in a user table; day = g % 3.
STORE = """
CREATE TABLE kpi_history AS
SELECT g % 3 AS day,
       escalation_summary(g % 5 = 0) AS escalations,
       incident_summary(g % 700, g) AS incidents,
       contact_summary(('c' || (g % 300))::text, g) AS contacts_text,
       contact_summary_by_segment((ARRAY['north', 'south', 'Région Est'])[1 + g % 3], g % 400, g) AS by_segment,
       resolution_time_summary(timestamptz '2026-10-01' + g * interval '1 minute',
                               CASE WHEN g % 7 > 0 THEN timestamptz '2026-10-01' + g * interval '3 minutes' END) AS resolution,
       nps_summary(g % 11) AS nps,
       csat_summary(1 + g % 5) AS csat,
       complaint_resolution_cost_summary((g % 97) * 1.25, g % 4 > 0) AS cost,
       -- spans from a second to weeks: 0.5.0 stored these in its dense layout only
       resolution_time_sketch(timestamptz '2026-10-01', timestamptz '2026-10-01' + (g % 7 * g * g) * interval '1 second') AS sketch
FROM generate_series(1, 3000) g GROUP BY 1;
UPDATE kpi_catalog SET band_edges = '{4,9}' WHERE kpi = 'incident_rate';
-- a schedule: Mondays 9-17 and a Friday night shift in Berlin, a day off
INSERT INTO kpi_schedule VALUES ('office', 'Europe/Berlin');
INSERT INTO kpi_schedule_hours VALUES ('office', 1, '09:00', '17:00'), ('office', 5, '22:00', '02:00');
INSERT INTO kpi_holiday VALUES ('office', '2026-10-05', 'closed');
CREATE VIEW kpi_report AS
SELECT day, escalation_rate(escalations) AS escalation, incident_rate(incidents) AS incidents,
       kpi_band('incident_rate', incident_rate(incidents)) AS incident_band
FROM kpi_history;
"""

# What a user reads back: every accessor of every stored type, the rollups, the view.
READ = """
SELECT day, escalation_rate(escalations), escalations::text, incident_rate(incidents),
       contact_rate(contacts_text), contact_rate_by_segment(by_segment)::text,
       avg_resolution_time(resolution), pending_count(resolution), nps(nps), survey_responses(nps),
       csat(csat), complaint_resolution_cost(cost), total_cost(cost), resolved_count(cost),
       sketch::text, median(sketch), percentile(sketch, 0.9), avg_resolution_time(sketch),
       business_time('2026-10-01', '2026-10-20', 'office')
FROM kpi_history ORDER BY day
"""
ROLLUP = """
SELECT escalation_rate(rollup(escalations)), incident_rate(rollup(incidents)), contact_rate(rollup(contacts_text)),
       contact_rate_by_segment(rollup(by_segment))::text, avg_resolution_time(rollup(resolution)), nps(rollup(nps)),
       csat(rollup(csat)), complaint_resolution_cost(rollup(cost)), rollup(sketch)::text
FROM kpi_history
"""
VIEW = "SELECT * FROM kpi_report ORDER BY day"
# The accessors of one stored row, in ROLLUP's order.
ONE_ROW = """
SELECT escalation_rate(escalations), incident_rate(incidents), contact_rate(contacts_text),
       contact_rate_by_segment(by_segment)::text, avg_resolution_time(resolution), nps(nps), csat(csat),
       complaint_resolution_cost(cost), sketch::text
FROM kpi_history WHERE day = %s
"""


def install(package):
    subprocess.run(["bash", "-c", f'source "{REPO}/scripts/common.sh"; install_package "$1"', "_", package],
                   check=True, capture_output=True)


def read_all(c):
    return (c.execute(READ).fetchall(), c.execute(ROLLUP).fetchall(), c.execute(VIEW).fetchall())


def version(c):
    return c.execute("SELECT extversion FROM pg_extension WHERE extname = 'support_kpi'").fetchone()[0]


def test_previous_release_updates_on_a_running_server_and_keeps_stored_summaries(admin, new_database, tmp_path):
    db = new_database(extension=False)
    try:
        install(PREVIOUS)
        with psycopg.connect(conninfo(db), autocommit=True) as old_session:
            old_session.execute("CREATE EXTENSION support_kpi")
            previous_version = version(old_session)
            assert previous_version != CURRENT_VERSION, "the previous release's control file was not installed"
            old_session.execute(STORE)
            before = read_all(old_session)
            assert len(before[0]) == 3 and all(v is not None for row in before[0] for v in row)

            # this build replaces the files under the open session, which has the old library mapped
            install(CURRENT)
            assert read_all(old_session) == before, "a session of the previous library changed its answers"
            assert old_session.execute("SELECT incident_rate(g % 10, g) FROM generate_series(1, 100) g").fetchone()

        with psycopg.connect(conninfo(db), autocommit=True) as c:
            c.execute("ALTER EXTENSION support_kpi UPDATE")
            assert version(c) == CURRENT_VERSION
            assert read_all(c) == before
            assert c.execute("SELECT band_edges::text FROM kpi_catalog WHERE kpi = 'incident_rate'").fetchone() == ("{4,9}",)
            # the stored values roll up into a new row of the same table (written in this
            # build's format), which reads as the rollup read before the update
            c.execute("INSERT INTO kpi_history SELECT 9, rollup(escalations), rollup(incidents), rollup(contacts_text), "
                      "rollup(by_segment), rollup(resolution), rollup(nps), rollup(csat), rollup(cost), rollup(sketch) "
                      "FROM kpi_history")
            assert c.execute(ONE_ROW, [9]).fetchall() == before[1]
            # the schedule's rows keep their meaning (always valid, one day off); a holiday of
            # several days and hours valid from a day on work on them
            span = "SELECT business_time('2026-10-05 00:00+02', '2026-10-13 00:00+02', 'office')"
            assert c.execute(span).fetchone()[0] == timedelta(hours=12)  # Friday's shift, Monday 12
            c.execute("UPDATE kpi_holiday SET last_day = '2026-10-12' WHERE day = '2026-10-05'")
            c.execute("INSERT INTO kpi_schedule_hours (schedule, iso_weekday, starts, ends, valid_from)"
                      " VALUES ('office', 2, '09:00', '10:00', '2026-10-13')")
            assert c.execute(span).fetchone()[0] == timedelta(0)  # every day of it off, Friday's too
            # the week after: Tuesday's new hour, Friday night's shift, Monday
            assert c.execute("SELECT business_time('2026-10-13 00:00+02', '2026-10-20 00:00+02', 'office')"
                             ).fetchone()[0] == timedelta(hours=13)
            after_insert = read_all(c)

        dump = tmp_path / "after_update.dump"
        subprocess.run([f"{PG_BIN}/pg_dump", "-Fc", "-f", str(dump), conninfo(db)], check=True)
        restored = new_database(extension=False)
        subprocess.run([f"{PG_BIN}/pg_restore", "--exit-on-error", "-d", conninfo(restored), str(dump)], check=True)
        with psycopg.connect(conninfo(restored), autocommit=True) as c:
            assert version(c) == CURRENT_VERSION
            assert read_all(c) == after_insert
            assert c.execute(ONE_ROW, [9]).fetchall() == before[1]
            assert c.execute("SELECT band_edges::text FROM kpi_catalog WHERE kpi = 'incident_rate'").fetchone() == ("{4,9}",)
    finally:
        install(CURRENT)


# A boolean event made on a release before 0.4.0 goes to the "any" signature, kept by a view.
FLAGGED = """
CREATE TABLE flagged_events AS
SELECT g % 40 AS customer_id, g % 3 = 0 AS is_incident, (ARRAY['north', 'south'])[1 + g % 2] AS segment
FROM generate_series(1, 500) g;
INSERT INTO flagged_events VALUES (41, NULL, 'north'), (42, false, 'south');
CREATE VIEW flagged_report AS
SELECT incident_rate(customer_id, is_incident) AS incidents,
       contact_rate_by_segment(segment, customer_id, is_incident)::text AS by_segment
FROM flagged_events;
"""
# The same without the aggregates: true counts as an event, false and NULL do not.
FLAGGED_REFERENCE = """
SELECT (SELECT count(*) FILTER (WHERE is_incident) * 1000.0 / count(DISTINCT customer_id) FROM flagged_events),
       (SELECT jsonb_object_agg(segment, jsonb_build_object('customers', n, 'contacts', k, 'rate', k * 100.0 / n,
                                                            'band', kpi_band('contact_rate', k * 100.0 / n)))::text
        FROM (SELECT segment, count(DISTINCT customer_id) AS n, count(*) FILTER (WHERE is_incident) AS k
              FROM flagged_events GROUP BY segment) s)
"""
FLAGGED_QUERY = """
SELECT incident_rate(customer_id, is_incident), contact_rate_by_segment(segment, customer_id, is_incident)::text
FROM flagged_events
"""
# The argument types of the aggregates the view calls.
VIEW_AGGREGATES = """
SELECT DISTINCT p.proname, pg_get_function_identity_arguments(p.oid)
FROM pg_depend d JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
JOIN pg_proc p ON d.refclassid = 'pg_proc'::regclass AND d.refobjid = p.oid
WHERE r.ev_class = 'flagged_report'::regclass AND p.prokind = 'a' ORDER BY 1
"""


# 0.3.0, the last release where a non-NULL false was an event; the previous release otherwise.
RELEASE_0_3 = os.environ.get("SUPPORT_KPI_RELEASE_0_3_PACKAGE", PREVIOUS)


def test_a_boolean_event_counts_when_true_in_old_views_new_queries_and_restores(admin, new_database, tmp_path):
    db = new_database(extension=False)
    try:
        install(RELEASE_0_3)
        with psycopg.connect(conninfo(db), autocommit=True) as c:
            c.execute("CREATE EXTENSION support_kpi")
            assert version(c) == "0.3.0", "needs the 0.3.0 package (SUPPORT_KPI_RELEASE_0_3_PACKAGE)"
            c.execute(FLAGGED)
            # before 0.4.0 every non-NULL boolean, false included, was an event
            old = c.execute("SELECT incidents FROM flagged_report").fetchone()[0]
            assert old == c.execute("SELECT count(is_incident) * 1000.0 / count(DISTINCT customer_id) "
                                    "FROM flagged_events").fetchone()[0]
        install(CURRENT)
        with psycopg.connect(conninfo(db), autocommit=True) as c:
            c.execute("ALTER EXTENSION support_kpi UPDATE")
            assert [args for _, args in c.execute(VIEW_AGGREGATES)] == [
                'segment text, customer_id integer, contact_id "any"', 'customer_id integer, incident_id "any"']
            expected = c.execute(FLAGGED_REFERENCE).fetchone()
            assert expected[0] != old
            assert c.execute("SELECT * FROM flagged_report").fetchone() == expected
            assert c.execute(FLAGGED_QUERY).fetchone() == expected
        dump = tmp_path / "flagged.dump"
        subprocess.run([f"{PG_BIN}/pg_dump", "-Fc", "-f", str(dump), conninfo(db)], check=True)
        restored = new_database(extension=False)
        subprocess.run([f"{PG_BIN}/pg_restore", "--exit-on-error", "-d", conninfo(restored), str(dump)], check=True)
        with psycopg.connect(conninfo(restored), autocommit=True) as c:
            # the restored view resolves to the boolean signature, with the same answer
            assert [args for _, args in c.execute(VIEW_AGGREGATES)] == [
                "segment text, customer_id integer, has_contact boolean", "customer_id integer, has_incident boolean"]
            assert c.execute("SELECT * FROM flagged_report").fetchone() == expected
    finally:
        install(CURRENT)
