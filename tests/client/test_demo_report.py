"""The demo's monthly report is right: every figure equals a plain-SQL computation, and every
band is the one the spec's band table gives (written out here independently of the catalog)."""

import os
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import psycopg
import pytest

from conftest import PG_BIN, conninfo

from conftest import DEMO


def spec_band(kpi, value):
    """The band tables of the KPI spec, edges included where the spec says."""
    if kpi == "incident_rate":
        return "excellent" if value < 5 else "acceptable" if value <= 10 else "concern"
    if kpi == "escalation_rate":
        return "excellent" if value < 3 else "acceptable" if value <= 5 else "concern"
    if kpi == "contact_rate":
        return "optimal" if value <= 5 else "acceptable" if value <= 10 else "concern"
    if kpi == "interaction_rate":
        return "below target" if value < 60 else "on target" if value <= 80 else "above target"
    raise ValueError(kpi)


REFERENCE = """
WITH months AS (SELECT generate_series('2026-05-01'::timestamptz, '2026-10-01', interval '1 month') AS month),
     per_segment AS (SELECT segment, count(*) AS customers FROM customers GROUP BY segment)
SELECT to_char(m.month, 'YYYY-MM'), s.segment,
       (SELECT count(*) FROM tickets t JOIN customers c ON c.id = t.customer_id
         WHERE c.segment = s.segment AND t.kind = 'incident'
           AND t.opened_at >= m.month AND t.opened_at < m.month + interval '1 month') * 1000.0 / s.customers,
       (SELECT count(*) FROM contacts k JOIN customers c ON c.id = k.customer_id
         WHERE c.segment = s.segment AND k.contacted_at >= m.month AND k.contacted_at < m.month + interval '1 month')
         * 100.0 / s.customers,
       (SELECT count(*) FILTER (WHERE t.escalated) * 100.0 / count(t.escalated) FROM tickets t
         JOIN customers c ON c.id = t.customer_id
         WHERE c.segment = s.segment AND t.opened_at >= m.month AND t.opened_at < m.month + interval '1 month'),
       (SELECT count(*) FROM interactions i JOIN customers c ON c.id = i.customer_id
         WHERE c.segment = s.segment AND i.occurred_at >= m.month AND i.occurred_at < m.month + interval '1 month')
         * 100.0 / s.customers
FROM months m CROSS JOIN per_segment s ORDER BY 1, 2
"""


def test_report_figures_and_bands(demo_db):
    with psycopg.connect(conninfo(demo_db)) as conn:
        report = conn.execute((DEMO / "report.sql").read_text()).fetchall()
        reference = conn.execute(REFERENCE).fetchall()
    assert len(report) == 24  # 6 months x 4 segments
    kpis = ["incident_rate", "contact_rate", "escalation_rate", "interaction_rate"]
    bands_seen = set()
    for row, ref in zip(report, reference):
        assert row[:2] == ref[:2]
        for i, kpi in enumerate(kpis):
            value, band = row[2 + 2 * i], row[3 + 2 * i]
            exact = ref[2 + i]
            # round() in PostgreSQL rounds half away from zero
            assert value == exact.quantize(Decimal("0.01"), ROUND_HALF_UP), (row[:2], kpi)
            assert band == spec_band(kpi, exact), (row[:2], kpi, exact)
            bands_seen.add((kpi, band))
    # the demo data is made to show every band of every KPI somewhere
    assert len(bands_seen) == 12, sorted(bands_seen)


def test_demo_is_deterministic(demo_db):
    with psycopg.connect(conninfo(demo_db)) as conn:
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM tickets),"
            " (SELECT count(*) FROM contacts), (SELECT count(*) FROM interactions)"
        ).fetchone()
    assert counts == (20000, 12547, 5887, 81406)
    with psycopg.connect(conninfo(demo_db)) as conn:
        more = conn.execute(
            "SELECT (SELECT count(*) FROM complaints), (SELECT count(*) FROM survey_answers),"
            " (SELECT count(churned_at) FROM customers), (SELECT sum(handle_time) FROM contacts)"
        ).fetchone()
    assert more[:3] == (2769, 28829, 1279)


# The complaint dashboard, each figure computed the long way, exactly.
COMPLAINT_REFERENCE = """
WITH months AS (SELECT generate_series('2026-05-01'::timestamptz, '2026-10-01', interval '1 month') AS month),
     segments AS (SELECT DISTINCT segment FROM customers),
     k AS (SELECT k.*, c.segment FROM complaints k JOIN customers c ON c.id = k.customer_id),
     a AS (SELECT a.*, c.segment FROM survey_answers a JOIN customers c ON c.id = a.customer_id)
SELECT to_char(m.month, 'YYYY-MM'), s.segment,
       (SELECT count(*) FROM k WHERE k.segment = s.segment AND date_trunc('month', opened_at) = m.month),
       (SELECT sum(extract(epoch FROM first_response_at - opened_at)) / count(first_response_at)
          FROM k WHERE k.segment = s.segment AND date_trunc('month', opened_at) = m.month),
       (SELECT count(*) FILTER (WHERE first_response_at IS NULL)
          FROM k WHERE k.segment = s.segment AND date_trunc('month', opened_at) = m.month),
       (SELECT count(resolved_at) * 100.0 / count(*)
          FROM k WHERE k.segment = s.segment AND date_trunc('month', opened_at) = m.month),
       (SELECT count(*) FILTER (WHERE resolved_at - opened_at <= interval '5 days') * 100.0 / count(*)
          FROM k WHERE k.segment = s.segment AND date_trunc('month', opened_at) = m.month),
       (SELECT count(*) FILTER (WHERE escalated) * 100.0 / count(*)
          FROM k WHERE k.segment = s.segment AND date_trunc('month', opened_at) = m.month),
       (SELECT count(*) FILTER (WHERE cross_functional) * 100.0 / count(*)
          FROM k WHERE k.segment = s.segment AND date_trunc('month', opened_at) = m.month),
       (SELECT count(*) FILTER (WHERE resolved_at_first_contact) * 100.0 / count(*)
          FROM k WHERE k.segment = s.segment AND date_trunc('month', opened_at) = m.month),
       (SELECT sum(resolution_cost) / count(resolved_at)
          FROM k WHERE k.segment = s.segment AND date_trunc('month', opened_at) = m.month),
       (SELECT count(*) FILTER (WHERE score >= 4) * 100.0 / count(*)
          FROM a WHERE a.segment = s.segment AND survey = 'csat' AND date_trunc('month', answered_at) = m.month),
       (SELECT (count(*) FILTER (WHERE score >= 9) - count(*) FILTER (WHERE score <= 6)) * 100.0 / count(*)
          FROM a WHERE a.segment = s.segment AND survey = 'nps' AND date_trunc('month', answered_at) = m.month),
       (SELECT avg(score)
          FROM a WHERE a.segment = s.segment AND survey = 'ces' AND date_trunc('month', answered_at) = m.month),
       (SELECT count(*) FILTER (WHERE churned_at < m.month + interval '1 month') * 100.0 / count(*)
          FROM customers c WHERE c.segment = s.segment
           AND c.signed_up <= m.month AND (c.churned_at IS NULL OR c.churned_at >= m.month))
FROM months m CROSS JOIN segments s ORDER BY 1, 2
"""


def rounded(value, digits):
    return value.quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)


def test_complaint_dashboard_figures(demo_db):
    with psycopg.connect(conninfo(demo_db)) as conn:
        report = conn.execute((DEMO / "complaints_report.sql").read_text()).fetchall()
        reference = conn.execute(COMPLAINT_REFERENCE).fetchall()
    assert len(report) == len(reference) == 24
    bands = set()
    for row, ref in zip(report, reference):
        (month, segment, complaints, first_response, awaiting, resolved, in_5_days, escalated, band,
         cross_dept, fcr, cost, csat, nps, ces, churn) = row
        where = (month, segment)
        assert (month, segment, complaints) == ref[:3]
        # the average, exact to the microsecond, truncated to the minute by the report
        exact_seconds = rounded(ref[3], 6)
        assert Decimal(first_response.days * 86400 + first_response.seconds) == (exact_seconds // 60) * 60, where
        assert first_response.microseconds == 0
        assert awaiting == ref[4], where
        for value, exact, digits in [(resolved, ref[5], 1), (in_5_days, ref[6], 1), (escalated, ref[7], 1),
                                     (cross_dept, ref[8], 1), (fcr, ref[9], 1), (cost, ref[10], 2),
                                     (csat, ref[11], 1), (nps, ref[12], 1), (ces, ref[13], 2), (churn, ref[14], 2)]:
            assert value == rounded(exact, digits), (where, value, exact)
        assert band == spec_band("escalation_rate", ref[7]), where
        bands.add(band)
    assert bands == {"excellent", "acceptable", "concern"}
    # the last month still has complaints waiting for a first response
    assert sum(r[4] for r in report if r[0] == "2026-10") > 0


BUSINESS_REFERENCE = """
SELECT to_char(date_trunc('month', k.opened_at), 'YYYY-MM'), c.segment, count(*),
       extract(epoch FROM percentile_disc(0.5) WITHIN GROUP (ORDER BY business_time(k.opened_at, k.first_response_at, 'support_desk'))) / 3600,
       extract(epoch FROM percentile_disc(0.5) WITHIN GROUP (ORDER BY business_time(k.opened_at, k.resolved_at, 'support_desk'))) / 3600,
       extract(epoch FROM percentile_disc(0.9) WITHIN GROUP (ORDER BY business_time(k.opened_at, k.resolved_at, 'support_desk'))) / 3600,
       count(*) FILTER (WHERE business_time(k.opened_at, k.resolved_at, 'support_desk') <= interval '20 hours') * 100.0 / count(*)
FROM complaints k JOIN customers c ON c.id = k.customer_id
GROUP BY 1, 2 ORDER BY 1, 2
"""


def test_business_hours_dashboard_medians(demo_db):
    """The business-hours part of the dashboard: medians and p90 within 1% of percentile_disc
    over business_time(), the share in 20 business hours exact, and business_time() itself
    equal to the zoneinfo reference of test_business_hours on a sample of the demo's
    complaints."""
    from test_business_hours import reference
    from datetime import date, time
    from zoneinfo import ZoneInfo
    with psycopg.connect(conninfo(demo_db)) as conn:
        report = conn.execute((DEMO / "business_hours_report.sql").read_text()).fetchall()
        ref = conn.execute(BUSINESS_REFERENCE).fetchall()
        rows = conn.execute("SELECT iso_weekday, starts, ends FROM kpi_schedule_hours WHERE schedule = 'support_desk'"
                            ).fetchall()
        holidays = {d for (d,) in conn.execute("SELECT day FROM kpi_holiday WHERE schedule = 'support_desk'")}
        sample = conn.execute("""SELECT opened_at, resolved_at, business_time(opened_at, resolved_at, 'support_desk')
                                 FROM complaints WHERE resolved_at IS NOT NULL AND id % 20 = 0 ORDER BY id""").fetchall()
    assert len(report) == len(ref) == 24
    for row, r in zip(report, ref):
        month, segment, complaints, _, reply, _, resolution, p90, in_20 = row
        assert (month, segment, complaints) == r[:3]
        for ours, truth in [(reply, r[3]), (resolution, r[4]), (p90, r[5])]:
            assert abs(ours - truth) <= Decimal("0.01") * truth + Decimal("0.05"), (month, segment, ours, truth)
        assert in_20 == rounded(r[6], 1), (month, segment)
    # business time itself, against zoneinfo
    zone = ZoneInfo("America/New_York")
    assert len(sample) > 100
    for opened, resolved, ours in sample:
        assert ours == reference(opened, resolved, zone, rows, holidays), (opened, resolved)


def test_demo_history_and_its_chart(demo_db, tmp_path):
    """demo/history.sql records the demo months; every recorded headline figure equals the
    report's plain-SQL reference; demo/chart.py draws exactly what the BI view holds."""
    import json
    import subprocess
    import sys

    # as scripts/demo.sh runs it: psql sends the statements one by one, and CALL
    # kpi_record_range commits per period, which it may only do outside a transaction block
    subprocess.run([f"{PG_BIN}/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", demo_db,
                    "-f", str(DEMO / "history.sql")], check=True, capture_output=True)
    with psycopg.connect(conninfo(demo_db), autocommit=True) as conn:
        reference = conn.execute(REFERENCE).fetchall()
        recorded = {(to_month, kpi, segment): value for to_month, kpi, segment, value in conn.execute(
            "SELECT to_char(period_start, 'YYYY-MM'), kpi, dimension_value, value FROM kpi_recorded "
            "WHERE tracking = 'demo_monthly' AND dimension = 'segment'")}
        view = conn.execute("""SELECT kpi, dimension_value, to_char("time", 'YYYY-MM'), value FROM kpi_recorded_bi
                               WHERE tracking = 'demo_monthly' AND dimension = 'segment'
                                 AND kpi IN ('incident_rate', 'contact_rate', 'escalation_rate', 'interaction_rate')
                               ORDER BY 1, 2, 3""").fetchall()
        edges = conn.execute("SELECT DISTINCT kpi, edge FROM kpi_recorded_band_edges "
                             "WHERE kpi <> 'csat' ORDER BY 1, 2").fetchall()
        changes = conn.execute("SELECT count(*) FROM kpi_band_changes WHERE tracking = 'demo_monthly'").fetchone()[0]
    kpis = ["incident_rate", "contact_rate", "escalation_rate", "interaction_rate"]
    assert len(reference) == 24
    for ref in reference:
        for i, kpi in enumerate(kpis):
            assert recorded[(ref[0], kpi, ref[1])] == ref[2 + i], (ref[:2], kpi)
    assert changes > 0  # the demo months show band changes

    png, data = tmp_path / "kpi_history.png", tmp_path / "plotted.json"
    env = {**os.environ, "PGDATABASE": demo_db}
    subprocess.run([sys.executable, str(DEMO / "chart.py"), "--dbname", demo_db, "--out", str(png),
                    "--data", str(data)], check=True, env=env, capture_output=True)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    plotted = json.loads(data.read_text())
    points = sorted((kpi, segment, month, value) for kpi, by_segment in plotted["series"].items()
                    for segment, series in by_segment.items() for month, value in series)
    assert points == [(k, s, m, float(v)) for k, s, m, v in view]
    assert sorted((kpi, e[0]) for kpi, es in plotted["edges"].items() for e in es) == \
        [(k, float(e)) for k, e in edges]

    # the control charts beside it: the escalation rate per channel, as kpi_control_chart holds it
    control_png, control_data = tmp_path / "kpi_control_chart.png", tmp_path / "control.json"
    subprocess.run([sys.executable, str(DEMO / "chart.py"), "--dbname", demo_db, "--out", str(png),
                    "--control-out", str(control_png), "--control-data", str(control_data)],
                   check=True, env=env, capture_output=True)
    assert control_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and control_png.stat().st_size > 20_000
    drawn = json.loads(control_data.read_text())
    with psycopg.connect(conninfo(demo_db), autocommit=True) as conn:
        chart = conn.execute("""SELECT dimension_value, to_char("time", 'YYYY-MM'), value, centre, lower_limit,
                                       upper_limit, rules_fired
                                FROM kpi_control_chart WHERE tracking = 'demo_monthly' AND kpi = 'escalation_rate'
                                  AND dimension = 'channel' ORDER BY 1, "time" """).fetchall()
    channels = {row[0] for row in chart}
    assert len(channels) >= 3 and len(chart) == 6 * len(channels)  # every channel, 6 months
    as_float = (lambda v: None if v is None else float(v))
    assert sorted((c, *p[:1], *map(as_float, p[1:5]), p[5]) for c, ps in drawn.items() for p in ps) == \
        sorted((c, m, *map(as_float, vs), r) for c, m, *vs, r in chart)
    # months 3 to 6 have limits (2 or more months before them)
    assert sum(1 for row in chart if row[3] is not None) == 4 * len(channels)


def test_sla_report_figures_and_queue(demo_db):
    """demo/sla_report.sql: per month and metric, the achievement rate and counts exactly as
    plain SQL over the same SLA rows, the first replies of tickets never raised to urgent
    judged again through business_time(); the at-risk queue: every active SLA, soonest first."""
    text = (DEMO / "sla_report.sql").read_text()
    report_sql, queue_sql = text.split("-- The at-risk queue", 1)
    with psycopg.connect(conninfo(demo_db)) as conn:
        report = conn.execute(report_sql).fetchall()
        plain = conn.execute("""
            WITH slas AS (
                SELECT t.opened_at, s.*
                FROM (SELECT ticket_id, ticket_timeline(kind, value, at) AS timeline FROM ticket_events
                      GROUP BY ticket_id) e
                JOIN tickets t ON t.id = e.ticket_id
                CROSS JOIN LATERAL sla_instances(e.timeline, 'support_desk', '2026-11-01') s)
            SELECT to_char(date_trunc('month', opened_at), 'YYYY-MM'), metric, count(achieved),
                   round(100.0 * count(*) FILTER (WHERE achieved) / count(achieved), 1),
                   count(*) FILTER (WHERE status = 'active'),
                   round(extract(epoch FROM percentile_disc(0.5) WITHIN GROUP (ORDER BY elapsed)
                         FILTER (WHERE metric = 'next_reply_time' AND fulfilled_at IS NOT NULL)) / 3600, 2)
            FROM slas GROUP BY 1, 2 ORDER BY 1, 2""").fetchall()
        # first replies in business hours, never urgent: achieved iff business_time <= target
        first = conn.execute("""
            SELECT t.id, business_time(t.opened_at, min(e.at) FILTER (WHERE e.kind = 'message' AND e.value = 'agent'),
                                       'support_desk') <= p.target,
                   (SELECT s.achieved FROM sla_instances((SELECT ticket_timeline(kind, value, at) FROM ticket_events x
                                                          WHERE x.ticket_id = t.id), 'support_desk', '2026-11-01') s
                    WHERE s.metric = 'first_reply_time')
            FROM tickets t JOIN ticket_events e ON e.ticket_id = t.id
            JOIN kpi_sla_policy p ON p.policy = 'support_desk' AND p.metric = 'first_reply_time'
                                 AND p.priority = CASE t.kind WHEN 'incident' THEN 'high' WHEN 'question' THEN 'normal'
                                                              ELSE 'low' END
            WHERE NOT coalesce(t.escalated, false) AND t.id % 10 = 0
            GROUP BY t.id, p.target HAVING count(*) FILTER (WHERE e.kind = 'message' AND e.value = 'agent') > 0
            ORDER BY t.id""").fetchall()
        conn.execute("CREATE TEMP VIEW desk_events AS SELECT ticket_id, 'support_desk' AS policy, kind, value, at"
                     " FROM ticket_events")
        queue = conn.execute("SELECT ticket_id, metric, breach_at, paused FROM kpi_sla_at_risk('desk_events', '2026-11-01')"
                             ).fetchall()
        active = conn.execute("""
            SELECT count(*) FROM (SELECT ticket_id, ticket_timeline(kind, value, at) AS timeline FROM ticket_events
                                  GROUP BY ticket_id) e
            CROSS JOIN LATERAL sla_instances(e.timeline, 'support_desk', '2026-11-01') s WHERE s.status = 'active'
            """).fetchone()[0]
    assert len(report) == 18  # 6 months x 3 metrics
    for row, ref in zip(report, plain):
        month, metric, decided, rate, lower, upper, running, median = row
        assert (month, metric, decided, rate, running) == ref[:5]
        assert lower < rate <= upper
        if metric == "next_reply_time":
            assert abs(median - ref[5]) <= Decimal("0.01") * ref[5] + Decimal("0.01"), (month, median, ref[5])
        else:
            assert median is None
    assert {r[1] for r in report} == {"first_reply_time", "next_reply_time", "requester_wait_time"}
    assert len(first) > 500 and all(ours == mine for (_, mine, ours) in first), [r for r in first if r[1] != r[2]][:5]
    assert any(not ours for (_, _, ours) in first) and any(ours for (_, _, ours) in first)
    assert len(queue) == active > 10
    due = [r[2] for r in queue if r[2] is not None]
    assert due == sorted(due) and all(r[3] for r in queue[len(due):])
