"""The recorded KPI history: kpi_tracked says what to record, kpi_record / kpi_record_range /
kpi_record_due write kpi_recorded. Checked against plain SQL per month and slice, with
re-recording, failures, band-change notifications received by a real LISTEN client, the real
pg_cron scheduling the recording, and BI clients (SQLAlchemy + pandas, Grafana's macros)."""

import json
import os
import re
import subprocess
import time
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from conftest import PG_BIN, WORK_DIR, extra_servers

REPO = Path(__file__).resolve().parents[2]

DATA = """
SET TimeZone = 'UTC';
CREATE SCHEMA support;
CREATE TABLE support.customers AS
SELECT g AS id, (ARRAY['retail', 'smb', 'enterprise'])[1 + g % 3] AS segment FROM generate_series(1, 300) g;
CREATE TABLE support.tickets AS
SELECT g AS id, 1 + (hashint4(g) & 255) AS customer_id,
       timestamptz '2026-01-01' + g * interval '53 minutes' AS opened_at,
       CASE WHEN g % 6 > 0 THEN timestamptz '2026-01-01' + g * interval '53 minutes' + (g % 30) * interval '1 hour' END
           AS resolved_at,
       (ARRAY['email', 'chat', NULL])[1 + g % 3] AS channel,
       hashint4(g * 7) % 40 = 0 AS escalated,
       CASE WHEN g % 4 = 0 THEN g % 11 END AS nps_answer,
       CASE WHEN g % 5 > 0 THEN (g % 97) * 1.25 END AS cost
FROM generate_series(1, 5000) g;
-- per-customer rates need every customer, with or without tickets
CREATE VIEW support.customer_tickets AS
SELECT c.id AS customer_id, c.segment, t.id AS ticket_id, t.escalated,
       coalesce(t.opened_at, timestamptz '2026-01-15') AS opened_at
FROM support.customers c LEFT JOIN support.tickets t ON t.customer_id = c.id;
CREATE VIEW support.tickets_by_segment AS
SELECT t.*, c.segment FROM support.tickets t JOIN support.customers c ON c.id = t.customer_id;
INSERT INTO kpi_tracked (tracking, kpi, source, time_column, summary, period, dimensions) VALUES
  ('monthly', 'escalation_rate', 'support.tickets_by_segment', 'opened_at', 'escalation_summary(escalated)', 'month',
   '{segment,channel}'),
  ('monthly', 'avg_resolution_time', 'support.tickets_by_segment', 'opened_at',
   'resolution_time_summary(opened_at, resolved_at)', 'month', '{segment}'),
  ('monthly', 'nps', 'support.tickets_by_segment', 'opened_at', 'nps_summary(nps_answer)', 'month', '{}'),
  ('monthly', 'incident_rate', 'support.customer_tickets', 'opened_at',
   'incident_summary(customer_id, escalated)', 'month', '{segment}'),
  ('monthly', 'complaint_resolution_cost', 'support.tickets_by_segment', 'opened_at',
   'complaint_resolution_cost_summary(cost, resolved_at IS NOT NULL)', 'month', '{segment}'),
  ('monthly', 'cost_per_complaint', 'support.tickets_by_segment', 'opened_at',
   'complaint_resolution_cost_summary(cost, resolved_at IS NOT NULL)', 'month', '{segment}');
"""

MONTHS = ("2026-01-01", "2026-06-01")  # recorded: January to May (the data runs into July)

# The plain SQL each recorded value must equal: (kpi, dimension column or None, value, cases).
REFERENCE = {
    "escalation_rate": ("support.tickets_by_segment",
                        "count(*) FILTER (WHERE escalated) * 100.0 / nullif(count(escalated), 0)", "count(escalated)"),
    "avg_resolution_time": ("support.tickets_by_segment",
                            "extract(epoch FROM avg(resolved_at - opened_at)) / 3600",
                            "count(resolved_at)"),
    "nps": ("support.tickets_by_segment",
            "(count(*) FILTER (WHERE nps_answer >= 9) - count(*) FILTER (WHERE nps_answer <= 6)) * 100.0 "
            "/ nullif(count(nps_answer), 0)", "count(nps_answer)"),
    # a customer without a ticket in the month: the LEFT JOIN's NULL ticket in January only
    "incident_rate": ("support.customer_tickets",
                      "count(*) FILTER (WHERE escalated) * 1000.0 / nullif(count(DISTINCT customer_id), 0)",
                      "count(DISTINCT customer_id)"),
    # one summary, two cost KPIs, each with its own cases: resolved complaints, costs given
    "complaint_resolution_cost": ("support.tickets_by_segment",
                                  "sum(cost) / nullif(count(*) FILTER (WHERE resolved_at IS NOT NULL), 0)",
                                  "count(resolved_at)"),
    "cost_per_complaint": ("support.tickets_by_segment", "sum(cost) / nullif(count(cost), 0)", "count(cost)"),
}


@pytest.fixture
def history(new_database):
    db = new_database()
    with psycopg.connect(dbname=db, autocommit=True) as c:
        c.execute(DATA)
        c.execute("CALL kpi_record_range('monthly', %s, %s)", MONTHS)
    return db


def connect(db):
    c = psycopg.connect(dbname=db, autocommit=True)
    c.execute("SET TimeZone = 'UTC'")
    return c


def reference_rows(c, kpi, dimension):
    source, value, cases = REFERENCE[kpi]
    slice_ = f"coalesce({dimension}::text, '(none)')" if dimension else "'all'"
    return c.execute(f"""
        SELECT date_trunc('month', opened_at) AS m, {slice_} AS v, {value} AS value, {cases} AS cases
        FROM {source} WHERE opened_at >= %s AND opened_at < %s GROUP BY 1, 2 ORDER BY 1, 2""", MONTHS).fetchall()


def recorded_rows(c, kpi, dimension):
    return c.execute("""
        SELECT period_start, dimension_value, value, cases FROM kpi_recorded
        WHERE tracking = 'monthly' AND kpi = %s AND dimension = %s ORDER BY 1, 2""",
                     [kpi, dimension or "all"]).fetchall()


def test_recorded_values_equal_plain_sql_per_month_and_slice(history):
    with connect(history) as c:
        for kpi, dimensions in [("escalation_rate", [None, "segment", "channel"]),
                                ("avg_resolution_time", [None, "segment"]), ("nps", [None]),
                                ("incident_rate", [None, "segment"]),
                                ("complaint_resolution_cost", [None, "segment"]),
                                ("cost_per_complaint", [None, "segment"])]:
            for dimension in dimensions:
                ours, ref = recorded_rows(c, kpi, dimension), reference_rows(c, kpi, dimension)
                assert len(ours) == len(ref) and len(ours) >= 5, (kpi, dimension)
                for o, r in zip(ours, ref):
                    assert o[:2] == r[:2] and o[3] == r[3], (kpi, dimension, o, r)
                    assert abs(o[2] - r[2]) < 1e-8 if kpi == "avg_resolution_time" else o[2] == r[2], (o, r)
        # the NULL channel is its own slice
        assert c.execute("SELECT count(*) FROM kpi_recorded WHERE dimension = 'channel' AND dimension_value = '(none)'"
                         ).fetchone()[0] == 5
        # band, verdict, interval and the previous period, as the functions and lag() give them
        bad = c.execute("""
            SELECT h.* FROM kpi_recorded h
            JOIN LATERAL (SELECT lag(value) OVER w AS pv, lag(band) OVER w AS pb, period_start
                          FROM kpi_recorded p
                          WHERE p.tracking = h.tracking AND p.kpi = h.kpi AND p.dimension = h.dimension
                            AND p.dimension_value = h.dimension_value
                          WINDOW w AS (ORDER BY period_start)) l ON l.period_start = h.period_start
            WHERE h.band IS DISTINCT FROM kpi_band(h.kpi, h.value)
               OR h.previous_value IS DISTINCT FROM l.pv OR h.previous_band IS DISTINCT FROM l.pb
               OR h.change IS DISTINCT FROM h.value - l.pv""").fetchall()
        assert bad == []
        direct = c.execute("""
            SELECT date_trunc('month', opened_at), (escalation_rate_ci(escalation_summary(escalated))).*,
                   kpi_band('escalation_rate', escalation_summary(escalated))
            FROM support.tickets WHERE opened_at < %s GROUP BY 1 ORDER BY 1""", [MONTHS[1]]).fetchall()
        recorded = c.execute("""
            SELECT period_start, ci_lower, ci_upper, verdict FROM kpi_recorded
            WHERE kpi = 'escalation_rate' AND dimension = 'all' ORDER BY 1""").fetchall()
        assert recorded == direct
        # every recorded row carries a verdict that contains its point band
        assert c.execute("SELECT count(*) FROM kpi_recorded WHERE value IS NOT NULL AND "
                         "position(band IN verdict) = 0").fetchone()[0] == 0


def test_a_median_kpi_is_recorded_from_its_sketch(history):
    """median_resolution_time, recorded from resolution_time_sketch: within 1% of
    percentile_disc per month and segment, in hours, with its cases."""
    with connect(history) as c:
        c.execute("INSERT INTO kpi_tracked VALUES ('medians', 'median_resolution_time', 'support.tickets_by_segment', "
                  "'opened_at', 'resolution_time_sketch(opened_at, resolved_at)', 'month', '{segment}')")
        c.execute("CALL kpi_record_range('medians', %s, %s)", MONTHS)
        rows = c.execute("""
            SELECT r.period_start, r.dimension_value, r.value, r.cases, x.truth, x.n, r.band
            FROM kpi_recorded r JOIN (
                SELECT date_trunc('month', opened_at) AS m, segment,
                       extract(epoch FROM percentile_disc(0.5) WITHIN GROUP (ORDER BY resolved_at - opened_at)) / 3600 AS truth,
                       count(resolved_at) AS n
                FROM support.tickets_by_segment WHERE opened_at >= %s AND opened_at < %s GROUP BY 1, 2) x
              ON x.m = r.period_start AND x.segment = r.dimension_value
            WHERE r.tracking = 'medians' AND r.dimension = 'segment' ORDER BY 1, 2""", MONTHS).fetchall()
    assert len(rows) == 15
    for period, segment, value, cases, truth, n, band in rows:
        assert abs(value - truth) <= Decimal("0.01") * truth + Decimal("0.000001"), (period, segment, value, truth)
        assert cases == n and band == "no bands set"


def test_recording_a_period_again_replaces_it(history):
    with connect(history) as c:
        before = c.execute("SELECT count(*) FROM kpi_recorded").fetchone()[0]
        # late data for February: ten escalated tickets
        c.execute("INSERT INTO support.tickets (id, customer_id, opened_at, escalated) "
                  "SELECT 100000 + g, 2, timestamptz '2026-02-10', true FROM generate_series(1, 10) g")
        written = c.execute("SELECT kpi_record('monthly', '2026-02-01')").fetchone()[0]
        assert written == c.execute("SELECT count(*) FROM kpi_recorded WHERE period_start = '2026-02-01'").fetchone()[0]
        assert c.execute("SELECT count(*) FROM kpi_recorded").fetchone()[0] == before
        assert recorded_rows(c, "escalation_rate", None) == reference_rows(c, "escalation_rate", None)
        # March's previous value follows the new February
        feb, march_previous = c.execute("""
            SELECT (SELECT value FROM kpi_recorded WHERE kpi = 'escalation_rate' AND dimension = 'all'
                    AND period_start = '2026-02-01'),
                   (SELECT previous_value FROM kpi_recorded WHERE kpi = 'escalation_rate' AND dimension = 'all'
                    AND period_start = '2026-03-01')""").fetchone()
        assert feb == march_previous
        # a period start that is not one
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="is not the start of a month"):
            c.execute("SELECT kpi_record('monthly', '2026-02-03')")


def test_a_failed_recording_keeps_the_previous_history(history):
    with connect(history) as c:
        before = c.execute("SELECT * FROM kpi_recorded ORDER BY 1, 2, 3, 4, 5, 6").fetchall()
        c.execute("INSERT INTO kpi_tracked VALUES ('monthly', 'csat', 'support.tickets', 'opened_at', "
                  "'csat_summary(no_such_column)', 'month', '{}')")
        with pytest.raises(psycopg.errors.UndefinedColumn) as failed:
            c.execute("SELECT kpi_record('monthly', '2026-03-01')")
        assert 'recording csat of tracking "monthly" for the month of 2026-03-01' in str(failed.value)
        assert "no_such_column" in str(failed.value) and "kept its previous rows" in failed.value.diag.message_hint
        # back-filling commits each period: a failure in the first leaves everything as it was
        with pytest.raises(psycopg.errors.UndefinedColumn):
            c.execute("CALL kpi_record_range('monthly', '2026-01-01', '2026-06-01')")
        assert c.execute("SELECT * FROM kpi_recorded ORDER BY 1, 2, 3, 4, 5, 6").fetchall() == before
        # a failure in a later period keeps the periods recorded before it
        c.execute("""UPDATE kpi_tracked SET summary = 'csat_summary(CASE WHEN opened_at < ''2026-03-01''
                     THEN 3 ELSE 9 END)' WHERE kpi = 'csat'""")
        with pytest.raises(psycopg.errors.NumericValueOutOfRange, match="CSAT answer 9"):
            c.execute("CALL kpi_record_range('monthly', '2026-01-01', '2026-06-01')")
        assert c.execute("SELECT array_agg(DISTINCT period_start::date::text ORDER BY period_start::date::text) "
                         "FROM kpi_recorded WHERE kpi = 'csat'").fetchone()[0] == ["2026-01-01", "2026-02-01"]


def test_back_filling_and_the_schedule_report_each_period(history):
    """A year's back-fill is not silent: kpi_record_range reports each period when it commits
    (its number of all, rows written, time taken), and kpi_record_due each recording or
    failure."""
    with connect(history) as c:
        notices = []
        c.add_notice_handler(lambda d: notices.append((d.severity_nonlocalized, d.message_primary)))
        c.execute("CALL kpi_record_range('monthly', %s, %s)", MONTHS)
        written = dict(c.execute("SELECT period_start, count(*) FROM kpi_recorded WHERE tracking = 'monthly' "
                                 "GROUP BY 1").fetchall())
        assert len(notices) == 5, notices  # January to May
        for i, (severity, message) in enumerate(notices):
            m = re.fullmatch(r'kpi_record_range: tracking "monthly", month of (\S+ \S+): (\d+) rows in (\d+) ms '
                             r'\((\d+) of (\d+)\)', message)
            assert severity == "NOTICE" and m, message
            start = datetime.fromisoformat(m[1] + ":00")
            assert start == datetime(2026, i + 1, 1, tzinfo=timezone.utc), message
            assert int(m[2]) == written[start] > 0 and (int(m[4]), int(m[5])) == (i + 1, 5), message
        # an empty range reports nothing
        notices.clear()
        c.execute("CALL kpi_record_range('monthly', '2026-03-01', '2026-03-01')")
        assert notices == []
        # the schedule's call: the lookback periods (2, the default) and the current period of
        # each tracking, and a failure
        c.execute("INSERT INTO kpi_tracked VALUES ('broken', 'csat', 'support.tickets', 'opened_at', "
                  "'csat_summary(no_such_column)', 'month', '{}')")
        with pytest.raises(psycopg.errors.UndefinedColumn):
            c.execute("CALL kpi_record_due()")
        due = [message for _, message in notices]
        assert len(due) == 6, due
        assert all(re.fullmatch(r'kpi_record_due: tracking "broken", month of \S+ \S+: failed after \d+ ms: .*no_such_column.*',
                                message) for message in due[:3]), due
        assert all(re.fullmatch(r'kpi_record_due: tracking "monthly", month of \S+ \S+: \d+ rows in \d+ ms', message)
                   for message in due[3:]), due


def test_a_band_change_is_notified_to_a_listening_client(history):
    """Under the alert rule 'band' (0.5.0's), every new band change is sent; the rule
    'significant' is test_change_tests.py's."""
    with connect(history) as listener, connect(history) as c:
        c.execute("UPDATE kpi_tracked SET alert_rule = 'band'")
        listener.execute("LISTEN support_kpi_band_change")
        april = "SELECT kpi, dimension, dimension_value, band FROM kpi_recorded WHERE period_start = '2026-04-01'"
        before = {r[:3]: r[3] for r in c.execute(april)}
        # 40 late escalated tickets make April's escalation rate a 'concern'
        c.execute("INSERT INTO support.tickets (id, customer_id, opened_at, escalated) "
                  "SELECT 200000 + g, 3, timestamptz '2026-04-20', true FROM generate_series(1, 40) g")
        c.execute("SELECT kpi_record('monthly', '2026-04-01')")
        notes = [json.loads(n.payload) for n in listener.notifies(timeout=5, stop_after=50)]
        # April was over when first recorded: its band changes are also restatements, sent
        # marked as such (test_restatements.py); here, the band changes against March
        restated = [n for n in notes if n.get("restatement")]
        notes = [n for n in notes if not n.get("restatement")]
        # notified: the bands that now differ from March's and did not before the re-recording
        changes = [r[:5] for r in c.execute("""
            SELECT kpi, dimension, dimension_value, previous_band, band FROM kpi_band_changes
            WHERE period_start = '2026-04-01' ORDER BY 1, 2, 3""") if before.get(r[:3]) != r[4]]
        assert changes, "the late escalations changed no band"
        assert sorted((n["kpi"], n["dimension"], n["dimension_value"], n["previous_band"], n["band"])
                      for n in notes) == changes
        assert {(n["kpi"], n["dimension"], n["dimension_value"], n["band"]) for n in restated} == \
            {(k, d, v, b) for k, d, v, _, b in changes if before.get((k, d, v)) is not None}
        total = next(n for n in notes if n["kpi"] == "escalation_rate" and n["dimension"] == "all")
        assert total["band"] == "concern" and total["previous_band"] != "concern"
        assert total["period_start"].startswith("2026-04-01")
        assert set(total) >= {"tracking", "period", "verdict", "value", "previous_value", "cases"}
        # recording April again with the same data notifies nothing new
        c.execute("SELECT kpi_record('monthly', '2026-04-01')")
        assert list(listener.notifies(timeout=2, stop_after=1)) == []


def pg_cron_available():
    libdir = subprocess.run([f"{PG_BIN}/pg_config", "--pkglibdir"], capture_output=True, text=True).stdout.strip()
    return os.path.exists(os.path.join(libdir, "pg_cron.so"))


@pytest.mark.skipif(not pg_cron_available(),
                    reason="pg_cron is not installed for this PostgreSQL (Debian's postgresql-15-cron; "
                           "scripts/setup.sh installs it for 15)")
def test_pg_cron_records_the_history_on_schedule():
    """A throwaway cluster with pg_cron preloaded: the README's cron.schedule statement runs the
    recording; a second job whose tracking fails reports why in cron.job_run_details and
    leaves the history of the good tracking alone. pg_cron 1.4 schedules by the minute."""
    group = "pg-cron"
    socket_dir = os.path.join(WORK_DIR, group, "cron")
    with extra_servers(group, ["cron"], 5505, "shared_preload_libraries=pg_cron", "cron.database_name=kpi",
                       f"cron.host={socket_dir}", "TimeZone=UTC") as nodes:
        host, port = nodes["cron"]
        with psycopg.connect(host=host, port=port, user="postgres", dbname="postgres", autocommit=True) as c:
            c.execute("CREATE DATABASE kpi")
        with psycopg.connect(host=host, port=port, user="postgres", dbname="kpi", autocommit=True) as c:
            c.execute("CREATE EXTENSION pg_cron")
            c.execute("CREATE EXTENSION support_kpi")
            c.execute(DATA)
            # the data lies in 2026: a tracking whose current period is now has nothing to
            # read, so the jobs record the months of the data by range
            c.execute("INSERT INTO kpi_tracked SELECT 'broken', 'csat', 'support.tickets', 'opened_at', "
                      "'csat_summary(no_such_column)', 'month', '{}'")
            good = c.execute("SELECT cron.schedule('kpi-history', '* * * * *', "
                             "$$CALL kpi_record_range('monthly', '2026-01-01', '2026-06-01')$$)").fetchone()[0]
            broken = c.execute("SELECT cron.schedule('kpi-broken', '* * * * *', "
                               "$$CALL kpi_record_range('broken', '2026-01-01', '2026-06-01')$$)").fetchone()[0]
            deadline = time.time() + 150
            runs = []
            while time.time() < deadline:
                runs = c.execute("SELECT jobid, status, return_message FROM cron.job_run_details "
                                 "WHERE status IN ('succeeded', 'failed') ORDER BY runid").fetchall()
                if {good, broken} <= {r[0] for r in runs}:
                    break
                time.sleep(2)
            c.execute("SELECT cron.unschedule('kpi-history'), cron.unschedule('kpi-broken')")
            by_job = {r[0]: r for r in runs}
            assert good in by_job and broken in by_job, f"pg_cron ran no job within 150 s: {runs}"
            assert by_job[good][1] == "succeeded", by_job[good]
            assert by_job[broken][1] == "failed"
            assert 'recording csat of tracking "broken"' in by_job[broken][2], by_job[broken]
            assert recorded_rows(c, "escalation_rate", "segment") == reference_rows(c, "escalation_rate", "segment")
            assert c.execute("SELECT count(*) FROM kpi_recorded WHERE tracking = 'broken'").fetchone()[0] == 0
            # kpi_record_due, as the README schedules it, records every tracking it can and
            # then fails naming the ones it could not
            with pytest.raises(psycopg.errors.UndefinedColumn, match='tracking "broken"'):
                c.execute("CALL kpi_record_due()")
            now_month = c.execute("SELECT date_trunc('month', now())").fetchone()[0]
            assert c.execute("SELECT count(*) FROM kpi_recorded WHERE tracking = 'monthly' AND period_start = %s",
                             [now_month]).fetchone()[0] >= 1


# Grafana's PostgreSQL macros, expanded as Grafana documents them for a time range.
def grafana_expand(sql, start, end):
    sql = re.sub(r"\$__timeFilter\(([^)]*)\)",
                 lambda m: f"{m.group(1)} BETWEEN '{start.isoformat()}' AND '{end.isoformat()}'", sql)

    def group_alias(m):
        column, step = m.group(1).strip(), m.group(2)
        seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[step[-1]] * int(step[:-1])
        return f'floor(extract(epoch from {column})/{seconds})*{seconds} AS "time"'

    return re.sub(r"\$__timeGroupAlias\(([^,]*),\s*'([0-9]+[smhd])'\)", group_alias, sql)


def test_bi_views_read_by_sqlalchemy_pandas_and_grafana_queries(history):
    import pandas as pd
    import sqlalchemy as sa

    engine = sa.create_engine(f"postgresql+psycopg:///{history}")
    with engine.connect() as sc:
        frame = pd.read_sql("SELECT * FROM kpi_recorded_bi ORDER BY \"time\", kpi, dimension, dimension_value", sc)
        edges = pd.read_sql("SELECT * FROM kpi_recorded_band_edges", sc)
    assert str(frame["time"].dtype).startswith("datetime64") and str(frame["time"].dt.tz) == "UTC"
    for column in ["value", "ci_lower", "ci_upper", "previous_value", "change"]:
        assert frame[column].dtype == "float64", column
    assert frame["cases"].dtype in ("int64", "float64")
    assert (frame.query("kpi == 'avg_resolution_time' and dimension == 'all'")["value"] > 1).all()  # hours
    with connect(history) as c:
        assert len(frame) == c.execute("SELECT count(*) FROM kpi_recorded").fetchone()[0]
    assert set(edges["kpi"]) == {"escalation_rate", "incident_rate"}  # the KPIs with bands
    assert edges["edge"].dtype == "float64"

    dashboard = json.loads((REPO / "bi" / "grafana-dashboard.json").read_text())
    start, end = datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2026, 6, 1, tzinfo=timezone.utc)
    with connect(history) as c:
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                sql = grafana_expand(target["rawSql"], start, end)
                assert "$__" not in sql
                cur = c.execute(sql)
                rows = cur.fetchall()
                assert rows, (panel["title"], sql)
                types = {d.name: d.type_code for d in cur.description}
                # Grafana needs a time column (timestamptz, or epoch seconds as a number) and
                # values it can convert: float8, numeric, integers
                assert types["time"] in (1184, 701, 1700), (panel["title"], types)
                if target["format"] == "time_series":
                    numeric = [n for n, t in types.items() if n not in ("time", "metric")]
                    assert numeric and all(types[n] in (701, 700, 1700, 20, 23) for n in numeric), types


def test_overlapping_recordings_of_one_tracking_wait_for_each_other(history):
    """Two sessions recording the same period at once (two overlapping jobs): the second waits
    for the first to commit, then replaces its rows; no duplicate-key error, no lost rows."""
    import threading

    with connect(history) as c:
        expected = c.execute("SELECT count(*) FROM kpi_recorded WHERE period_start = '2026-03-01'").fetchone()[0]
    first = psycopg.connect(dbname=history)
    first.execute("SET TimeZone = 'UTC'")
    first.execute("SELECT kpi_record('monthly', '2026-03-01')")  # holds the tracking's lock, uncommitted
    errors = []

    def second():
        try:
            with connect(history) as c:
                c.execute("SELECT kpi_record('monthly', '2026-03-01')")
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    t = threading.Thread(target=second)
    t.start()
    time.sleep(1)
    assert t.is_alive(), "the second recording did not wait for the first"
    first.commit()
    first.close()
    t.join(30)
    assert not errors, errors
    with connect(history) as c:
        assert c.execute("SELECT count(*) FROM kpi_recorded WHERE period_start = '2026-03-01'").fetchone()[0] == expected
