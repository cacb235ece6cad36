"""Control charts of the KPI history (issue 21): kpi_control_chart against the worked p-chart
example of the NIST/SEMATECH e-Handbook (section 6.3.3.2: 30 wafers of 50 chips, mean share
of misregistered chips 0.2313, limits 0.0524 and 0.4102) and against a reference computation
written here for every point of random histories (p-, u- and individuals charts, each
point's baseline of previous periods, the four Western Electric rules); and the alert rule
'control', which sends a point that newly fires a rule."""

import json
import math
import random
from datetime import date, timedelta

import psycopg
import pytest

from conftest import conninfo

# misregistered chips of 50 per wafer, wafers 1 to 30 (NIST/SEMATECH e-Handbook 6.3.3.2)
NIST_WAFERS = [12, 15, 8, 10, 4, 7, 16, 9, 14, 10, 5, 6, 17, 12, 22, 8, 10, 5, 13, 11,
               20, 18, 24, 15, 9, 12, 7, 13, 9, 6]


def load_days(c, counts, cases):
    """Day i of 2026 holds cases[i] tickets of which counts[i] escalated, on the channel 'web'."""
    rows = []
    for i, (k, n) in enumerate(zip(counts, cases)):
        day = date(2026, 1, 1) + timedelta(days=i)
        rows += [(day.isoformat(), j < k) for j in range(n)]
    c.execute("CREATE TABLE tickets (opened_at timestamptz, escalated boolean, channel text DEFAULT 'web')")
    with c.cursor().copy("COPY tickets (opened_at, escalated) FROM STDIN") as copy:
        for r in rows:
            copy.write_row(r)


def test_the_nist_wafer_example(new_database):
    db = new_database()
    with psycopg.connect(conninfo(db), autocommit=True) as c:
        c.execute("SET TimeZone = 'UTC'")
        # the 30 wafers, then a 31st with 24 of 50 (the handbook's wafer 23, out of control)
        load_days(c, NIST_WAFERS + [24], [50] * 31)
        c.execute("INSERT INTO kpi_tracked (tracking, kpi, source, time_column, summary, period, control_baseline) "
                  "VALUES ('wafers', 'escalation_rate', 'public.tickets', 'opened_at', "
                  "'escalation_summary(escalated)', 'day', 30)")
        c.execute("CALL kpi_record_range('wafers', '2026-01-01', '2026-02-01')")
        assert sum(NIST_WAFERS) / 1500 == pytest.approx(0.2313, abs=5e-5)
        row = c.execute("""SELECT chart, baseline, round(centre / 100, 4), round(lower_limit / 100, 4),
                                  round(upper_limit / 100, 4), rule_1, rules_fired
                           FROM kpi_control_chart WHERE "time" = '2026-01-31' AND dimension = 'all'""").fetchone()
        assert [str(v) if not isinstance(v, (bool, str, int)) else v for v in row] == \
            ["p", 30, "0.2313", "0.0524", "0.4102", True, "1: beyond 3 sigma"]
        # the handbook's wafer 15 (22 of 50 = 0.44) lies above its limit too, wafer 23 (0.48)
        # is the 31st here; wafer 1 has no baseline, wafer 2 one period (no limits below 2)
        assert c.execute("""SELECT count(*) FILTER (WHERE centre IS NULL), min(baseline), max(baseline)
                            FROM kpi_control_chart WHERE dimension = 'all'""").fetchone() == (2, 0, 30)


def western_electric(zs):
    """Rules 1-4 of the last point of zs (None: no z)."""
    z = zs[-1]
    if z is None:
        return [None, None, None, None]
    last = lambda k: [v for v in zs[-k:] if v is not None]
    r1 = abs(z) > 3
    r2 = (z > 2 and sum(v > 2 for v in last(3)) >= 2) or (z < -2 and sum(v < -2 for v in last(3)) >= 2)
    r3 = (z > 1 and sum(v > 1 for v in last(5)) >= 4) or (z < -1 and sum(v < -1 for v in last(5)) >= 4)
    window = zs[-8:]
    r4 = len(window) == 8 and (all(v is not None and v > 0 for v in window)
                               or all(v is not None and v < 0 for v in window))
    return [r1, r2, r3, r4]


def reference_chart(points, baseline):
    """points: [(value, x, n, chart, scale)] of one slice in period order -> [(centre, sigma, z, rules)]."""
    out, zs = [], []
    for i, (value, x, n, chart, scale) in enumerate(points):
        base = points[max(0, i - baseline):i]
        if chart != "individuals":
            base = [p for p in points[:i] if p[2] > 0][-baseline:]
        centre = sigma = None
        if len(base) >= 2:
            if chart == "individuals":
                values = [p[0] for p in base]
                centre = sum(values) / len(values)
                ranges = [abs(b - a) for a, b in zip(values, values[1:])]
                sigma = sum(ranges) / len(ranges) / 1.128
            else:
                rate = sum(p[1] for p in base) / sum(p[2] for p in base)
                if chart == "p":
                    centre, sigma = 100 * rate, (100 * math.sqrt(rate * (1 - rate) / n) if n else None)
                else:
                    centre, sigma = scale * rate, (scale * math.sqrt(rate / n) if n else None)
        z = (value - centre) / sigma if centre is not None and sigma else None
        zs.append(z)
        out.append((centre, sigma, z, western_electric(zs)))
    return out


HISTORY = """
SET TimeZone = 'UTC';
CREATE TABLE t AS
SELECT g AS id, 1 + (hashint4(g) & 1023) % 300 AS customer_id,
       timestamptz '2026-01-01' + (g % 40) * interval '1 day' + (g % 13) * interval '1 hour' AS opened_at,
       (hashint4(g * 3) & 1023) < 40 + 30 * ((g % 40) / 30) AS escalated,
       CASE WHEN g % 3 = 0 THEN (hashint4(g * 5) & 1023) % 11 END AS nps_answer,
       (ARRAY['web', 'phone'])[1 + (g / 40) % 2] AS channel
FROM generate_series(1, 12000) g;
CREATE VIEW customer_t AS
SELECT c AS customer_id, d.day AS opened_at, t.id AS ticket_id, t.channel
FROM generate_series(1, 300) c CROSS JOIN generate_series(timestamptz '2026-01-01', '2026-02-09', '1 day') d(day)
LEFT JOIN t ON t.customer_id = c AND t.opened_at >= d.day AND t.opened_at < d.day + interval '1 day';
INSERT INTO kpi_tracked (tracking, kpi, source, time_column, summary, period, dimensions, control_baseline) VALUES
    ('daily', 'escalation_rate', 'public.t', 'opened_at', 'escalation_summary(escalated)', 'day', '{channel}', 7),
    ('daily', 'nps', 'public.t', 'opened_at', 'nps_summary(nps_answer)', 'day', '{channel}', 7),
    ('daily', 'incident_rate', 'public.customer_t', 'opened_at', 'incident_summary(customer_id, ticket_id)', 'day', '{}', 7);
"""


def test_every_point_equals_the_reference_computation(new_database):
    db = new_database()
    with psycopg.connect(conninfo(db), autocommit=True) as c:
        c.execute(HISTORY)
        c.execute("CALL kpi_record_range('daily', '2026-01-01', '2026-02-10')")
        fired = 0
        for kpi, chart in [("escalation_rate", "p"), ("nps", "individuals"), ("incident_rate", "u")]:
            slices = c.execute("SELECT DISTINCT dimension, dimension_value FROM kpi_recorded WHERE kpi = %s",
                               [kpi]).fetchall()
            assert slices
            for dimension, value in slices:
                recorded = c.execute("""SELECT value, stats FROM kpi_recorded WHERE kpi = %s AND dimension = %s
                                        AND dimension_value = %s AND value IS NOT NULL ORDER BY period_start""",
                                     [kpi, dimension, value]).fetchall()
                points = []
                for v, s in recorded:
                    if chart == "p":
                        points.append((float(v), s["hits"], s["total"], chart, None))
                    elif chart == "u":
                        points.append((float(v), s["events"], s["customers"], chart, 1000))
                    else:
                        points.append((float(v), None, None, chart, None))
                want = reference_chart(points, 7)
                got = c.execute("""SELECT chart, centre, sigma, z, rule_1, rule_2, rule_3, rule_4 FROM kpi_control_chart
                                   WHERE kpi = %s AND dimension = %s AND dimension_value = %s ORDER BY "time" """,
                                [kpi, dimension, value]).fetchall()
                assert len(got) == len(want) == 40
                for g, (centre, sigma, z, rules) in zip(got, want):
                    assert g[0] == chart
                    for a, b in [(g[1], centre), (g[2], sigma), (g[3], z)]:
                        assert (a is None) == (b is None), (g, centre, sigma, z)
                        if b is not None:
                            assert math.isclose(float(a), b, rel_tol=1e-9, abs_tol=1e-9), (g, centre, sigma, z)
                    assert [bool(r) if r is not None else None for r in g[4:]] == \
                        [bool(r) if r is not None else None for r in rules], (kpi, dimension, value, g, rules)
                    fired += any(g[4:])
        # the escalations rise on the last 10 days: rules fire
        assert fired > 0


def test_the_control_rule_sends_a_point_out_of_control_once(new_database):
    db = new_database()
    with psycopg.connect(conninfo(db), autocommit=True) as c, \
            psycopg.connect(conninfo(db), autocommit=True) as listener:
        c.execute("SET TimeZone = 'UTC'")
        rng = random.Random(7)
        counts = [rng.randint(8, 14) for _ in range(15)]
        load_days(c, counts + [12], [200] * 16)
        c.execute("INSERT INTO kpi_tracked (tracking, kpi, source, time_column, summary, period, alert_rule) "
                  "VALUES ('ctl', 'escalation_rate', 'public.tickets', 'opened_at', 'escalation_summary(escalated)', "
                  "'day', 'control')")
        c.execute("CALL kpi_record_range('ctl', '2026-01-01', '2026-01-17')")
        listener.execute("LISTEN support_kpi_band_change")
        # day 16 jumps to 40 of 200 (20%, about 6 sigma above the baseline's 5.5%)
        c.execute("UPDATE tickets SET escalated = true WHERE ctid IN (SELECT ctid FROM tickets "
                  "WHERE opened_at = '2026-01-16' AND NOT escalated LIMIT 28)")
        c.execute("SELECT kpi_record('ctl', '2026-01-16')")
        notes = [json.loads(n.payload) for n in listener.notifies(timeout=2, stop_after=5)]
        assert len(notes) == 1, notes
        note = notes[0]
        assert note["rule"] == "control" and note["chart"] == "p" and note["value"] == 20
        assert note["why"].startswith("p-chart rule 1: beyond 3 sigma (centre ")
        assert note["upper_limit"] < 20
        # recorded again with the same data: nothing new to send
        c.execute("SELECT kpi_record('ctl', '2026-01-16')")
        assert list(listener.notifies(timeout=2, stop_after=1)) == []
        # a band change alone sends nothing under 'control'
        c.execute("UPDATE kpi_catalog SET band_edges = '{1, 2}' WHERE kpi = 'escalation_rate'")
        c.execute("SELECT kpi_record('ctl', '2026-01-15')")
        assert list(listener.notifies(timeout=2, stop_after=1)) == []
