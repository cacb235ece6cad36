"""The demo's monthly report is right: every figure equals a plain-SQL computation, and every
band is the one the spec's band table gives (written out here independently of the catalog)."""

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import psycopg
import pytest

from conftest import conninfo

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
