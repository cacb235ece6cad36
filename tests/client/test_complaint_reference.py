"""The complaint-handling, survey, time, cost and churn KPIs equal the plain-SQL query a user
would write, exactly, on random tables over many seeds, in serial and forced-parallel plans,
whole-table and per GROUP BY group; and summaries rolled up equal the direct aggregate.

The random complaints have NULLs in every column, pending first responses and resolutions,
spans from zero microseconds to weeks, costs with 0 to 4 decimals, per-row target times,
and timestamps exactly on period edges for churn."""

import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from conftest import PARALLEL, SERIAL, assert_workers_combine, explain, set_plan

SEEDS = range(25)
BASE = datetime(2026, 1, 1, tzinfo=timezone.utc)
TARGETS = ["2 days", "36 hours", "1 day 12:00:00.000001", "1 mon", "00:00:00.5"]


def maybe(rng, p, value):
    return None if rng.random() < p else value


def span(rng):
    """A non-negative span: often zero or tiny, mostly hours to days, sometimes weeks."""
    r = rng.random()
    if r < 0.05:
        return timedelta(0)
    if r < 0.1:
        return timedelta(microseconds=rng.randint(1, 999))
    if r < 0.9:
        return timedelta(microseconds=rng.randint(0, 5 * 86_400_000_000))
    return timedelta(days=rng.randint(5, 60), microseconds=rng.randint(0, 86_400_000_000))


def cost(rng):
    scale = rng.randint(0, 4)
    return Decimal(rng.randint(0, 500_000)).scaleb(-scale)


def generate_complaints(seed):
    rng = random.Random(seed)
    n = 0 if seed % 10 == 0 else rng.randint(1, 1200)
    rows = []
    for i in range(n):
        opened = maybe(rng, 0.03, BASE + timedelta(microseconds=rng.randint(0, 180 * 86_400_000_000)))
        responded = None if opened is None or rng.random() < 0.1 else opened + span(rng)
        resolved = None if opened is None or rng.random() < 0.15 else opened + span(rng)
        rows.append((
            i, maybe(rng, 0.05, rng.randint(0, 3)), opened, responded, resolved,
            maybe(rng, 0.05, rng.random() < 0.05), maybe(rng, 0.05, rng.random() < 0.8),
            maybe(rng, 0.05, rng.random() < 0.15), maybe(rng, 0.05, rng.random() < 0.7),
            maybe(rng, 0.05, rng.random() < 0.9), maybe(rng, 0.1, cost(rng)),
            rng.choice(TARGETS), maybe(rng, 0.05, span(rng)),
            maybe(rng, 0.1, rng.randint(0, 10)), maybe(rng, 0.1, rng.randint(1, 5)),
            maybe(rng, 0.1, rng.randint(1, 7)),
        ))
    return rows


MONTHS = [datetime(2026, m, 1, tzinfo=timezone.utc) for m in range(1, 7)]


def generate_customers(seed):
    rng = random.Random(1000 + seed)
    n = 0 if seed % 10 == 0 else rng.randint(1, 800)
    rows = []
    for i in range(n):
        # some customers start or churn exactly at a period edge
        if rng.random() < 0.1:
            active_from = rng.choice(MONTHS)
        else:
            active_from = maybe(rng, 0.03, datetime(2025, 6, 1, tzinfo=timezone.utc)
                                + timedelta(microseconds=rng.randint(0, 365 * 86_400_000_000)))
        churned = None
        if active_from is not None and rng.random() < 0.4:
            churned = rng.choice(MONTHS) if rng.random() < 0.1 else active_from + span(rng) * rng.randint(1, 20)
            churned = max(churned, active_from)
        rows.append((i, maybe(rng, 0.05, rng.randint(0, 3)), active_from, churned))
    return rows


@pytest.fixture
def complaints(conn):
    def load(seed):
        conn.execute("DROP TABLE IF EXISTS complaints, customers_churn")
        conn.execute("""CREATE TABLE complaints (
            id int, team int, opened_at timestamptz, first_response_at timestamptz, resolved_at timestamptz,
            escalated boolean, resolved boolean, cross_functional boolean, first_contact boolean, met_sla boolean,
            cost numeric, target interval, handle_time interval, nps_score int, csat_score int, ces_score int)""")
        with conn.cursor().copy("COPY complaints FROM STDIN") as copy:
            for row in generate_complaints(seed):
                copy.write_row(row)
        # the same instants as timestamp without time zone, for the timestamp overloads
        conn.execute("ALTER TABLE complaints ADD opened_local timestamp, ADD resolved_local timestamp")
        conn.execute("UPDATE complaints SET opened_local = opened_at AT TIME ZONE 'UTC', resolved_local = resolved_at AT TIME ZONE 'UTC'")
        conn.execute("CREATE TABLE customers_churn (id int, team int, active_from timestamptz, churned_at timestamptz)")
        with conn.cursor().copy("COPY customers_churn FROM STDIN") as copy:
            for row in generate_customers(seed):
                copy.write_row(row)
        for table in ["complaints", "customers_churn"]:
            conn.execute(f"ALTER TABLE {table} SET (parallel_workers = 2)")
            conn.execute(f"ANALYZE {table}")

    return load


def share(condition, over):
    return f"count(*) FILTER (WHERE {condition}) * 100.0 / nullif(count({over}), 0)"


def mean_seconds(span_sql):
    """The exact mean of spans in seconds, rounded to the microsecond, in numeric."""
    return f"round(sum(extract(epoch FROM {span_sql})) / nullif(count({span_sql}), 0), 6)"


# (ours, plain SQL reference) over the complaints table
COMPLAINT_KPIS = [
    ("complaint_escalation_rate(escalated)", share("escalated", "escalated")),
    ("complaint_resolution_rate(resolved)", share("resolved", "resolved")),
    ("cross_functional_resolution_rate(cross_functional)", share("cross_functional", "cross_functional")),
    ("first_contact_resolution_rate(first_contact)", share("first_contact", "first_contact")),
    ("sla_compliance_rate(met_sla)", share("met_sla", "met_sla")),
    ("complaint_resolution_efficiency(opened_at, resolved_at, target)",
     share("resolved_at - opened_at <= target", "opened_at")),
    ("complaint_resolution_efficiency(opened_local, resolved_local, interval '2 days')",
     share("resolved_local - opened_local <= interval '2 days'", "opened_local")),
    ("sla_compliance_rate(opened_at, first_response_at, target)",
     share("first_response_at - opened_at <= target", "opened_at")),
    ("extract(epoch FROM avg_first_response_time(opened_at, first_response_at))",
     mean_seconds("first_response_at - opened_at")),
    ("extract(epoch FROM avg_resolution_time(opened_local, resolved_local))",
     mean_seconds("resolved_local - opened_local")),
    ("extract(epoch FROM avg_handling_time(opened_at, resolved_at))", mean_seconds("resolved_at - opened_at")),
    ("extract(epoch FROM avg_handling_time(handle_time))", mean_seconds("handle_time")),
    ("pending_count(first_response_summary(opened_at, first_response_at))",
     "count(*) FILTER (WHERE opened_at IS NOT NULL AND first_response_at IS NULL)"),
    ("completed_count(resolution_time_summary(opened_at, resolved_at))", "count(resolved_at - opened_at)"),
    ("complaint_resolution_cost(cost, resolved)",
     "sum(cost) / nullif(count(*) FILTER (WHERE resolved), 0)"),
    ("complaint_resolution_cost(cost, true) FILTER (WHERE resolved)",
     "sum(cost) FILTER (WHERE resolved) / nullif(count(*) FILTER (WHERE resolved), 0)"),
    ("cost_per_complaint(cost)", "sum(cost) / nullif(count(cost), 0)"),
    ("cost_per_complaint(cost)", "avg(cost)"),
    ("cost_per_complaint(complaint_resolution_cost_summary(cost, resolved))", "avg(cost)"),
    ("cost_count(cost_per_complaint_summary(cost))", "count(cost)"),
    ("nps(nps_score)",
     "(count(*) FILTER (WHERE nps_score >= 9) - count(*) FILTER (WHERE nps_score <= 6)) * 100.0"
     " / nullif(count(nps_score), 0)"),
    ("csat(csat_score)", share("csat_score >= 4", "csat_score")),
    ("ces(ces_score)", "avg(ces_score)"),
    ("survey_responses(nps_summary(nps_score))", "count(nps_score)"),
]

CHURN = (
    "churn_rate(active_from, churned_at, p, p + interval '1 month')",
    "count(*) FILTER (WHERE {base} AND churned_at < p + interval '1 month') * 100.0"
    " / nullif(count(*) FILTER (WHERE {base}), 0)".format(
        base="(active_from <= p AND (churned_at IS NULL OR churned_at >= p))"),
)
PERIODS = "generate_series('2026-01-01'::timestamptz, '2026-06-01', interval '1 month') p"


def as_text(rows):
    return [tuple(None if v is None else str(v) for v in row) for row in rows]


def check(conn, ours_sql, reference_sql, want_partial):
    set_plan(conn, SERIAL)
    reference = as_text(conn.execute(reference_sql).fetchall())
    serial = as_text(conn.execute(ours_sql).fetchall())
    set_plan(conn, PARALLEL)
    plan = explain(conn, ours_sql)
    parallel = as_text(conn.execute(ours_sql).fetchall())
    set_plan(conn, SERIAL)
    assert serial == reference, ours_sql
    assert parallel == reference, (ours_sql, plan)
    if want_partial:
        assert "Partial" in plan and "Finalize" in plan, plan


@pytest.mark.parametrize("seed", SEEDS)
def test_complaint_kpis_equal_reference(conn, complaints, seed):
    complaints(seed)
    many = len(generate_complaints(seed)) >= 100
    select_ours = ", ".join(o for o, _ in COMPLAINT_KPIS)
    select_reference = ", ".join(r for _, r in COMPLAINT_KPIS)
    check(conn, f"SELECT {select_ours} FROM complaints", f"SELECT {select_reference} FROM complaints", many)
    check(conn, f"SELECT team, {select_ours} FROM complaints GROUP BY 1 ORDER BY 1",
          f"SELECT team, {select_reference} FROM complaints GROUP BY 1 ORDER BY 1", False)


@pytest.mark.parametrize("seed", SEEDS)
def test_churn_rate_equals_reference(conn, complaints, seed):
    complaints(seed)
    ours, reference = CHURN
    check(conn, f"SELECT p, {ours} FROM customers_churn, {PERIODS} GROUP BY 1 ORDER BY 1",
          f"SELECT p, {reference} FROM customers_churn, {PERIODS} GROUP BY 1 ORDER BY 1", False)
    check(conn, f"SELECT team, p, {ours} FROM customers_churn, {PERIODS} GROUP BY 1, 2 ORDER BY 1, 2",
          f"SELECT team, p, {reference} FROM customers_churn, {PERIODS} GROUP BY 1, 2 ORDER BY 1, 2", False)


# (summary aggregate, accessor, direct aggregate): per-team summaries rolled up give the
# whole-table result.
ROLLUPS = [
    ("complaint_resolution_summary(resolved)", "complaint_resolution_rate", "complaint_resolution_rate(resolved)"),
    ("complaint_resolution_efficiency_summary(opened_at, resolved_at, target)", "complaint_resolution_efficiency",
     "complaint_resolution_efficiency(opened_at, resolved_at, target)"),
    ("first_response_summary(opened_at, first_response_at)", "avg_first_response_time",
     "avg_first_response_time(opened_at, first_response_at)"),
    ("handling_time_summary(handle_time)", "avg_handling_time", "avg_handling_time(handle_time)"),
    ("complaint_resolution_cost_summary(cost, resolved)", "complaint_resolution_cost",
     "complaint_resolution_cost(cost, resolved)"),
    ("cost_per_complaint_summary(cost)", "cost_per_complaint", "cost_per_complaint(cost)"),
    ("nps_summary(nps_score)", "nps", "nps(nps_score)"),
    ("csat_summary(csat_score)", "csat", "csat(csat_score)"),
    ("ces_summary(ces_score)", "ces", "ces(ces_score)"),
]


@pytest.mark.parametrize("seed", [1, 2, 3, 5, 10, 11])
def test_rolled_up_summaries_equal_the_direct_aggregate(conn, complaints, seed):
    complaints(seed)
    for summary, accessor, direct in ROLLUPS:
        rolled = conn.execute(
            f"SELECT {accessor}(rollup(s)) FROM (SELECT team, {summary} AS s FROM complaints GROUP BY team) t"
        ).fetchone()[0]
        whole = conn.execute(f"SELECT {direct} FROM complaints").fetchone()[0]
        assert str(rolled) == str(whole), summary


def test_survey_moving_windows_equal_recomputation(conn, complaints):
    """nps/csat/ces over a sliding window (inverse transition) equal the same window computed
    from scratch."""
    complaints(7)
    for kpi, column in [("nps", "nps_score"), ("csat", "csat_score"), ("ces", "ces_score")]:
        window = conn.execute(
            f"SELECT {kpi}({column}) OVER (ORDER BY id ROWS BETWEEN 20 PRECEDING AND CURRENT ROW) FROM complaints ORDER BY id"
        ).fetchall()
        scratch = conn.execute(
            f"SELECT (SELECT {kpi}(c2.{column}) FROM complaints c2 WHERE c2.id BETWEEN c.id - 20 AND c.id)"
            " FROM complaints c ORDER BY id"
        ).fetchall()
        assert as_text(window) == as_text(scratch), kpi


def test_parallel_workers_really_combine_the_new_states(conn):
    conn.execute("DROP TABLE IF EXISTS big_complaints")
    conn.execute("""CREATE TABLE big_complaints AS
        SELECT g AS id, g % 5 AS team,
               '2026-01-01'::timestamptz + (hashint4(g) & 65535) * interval '1 minute' AS opened_at,
               '2026-03-01'::timestamptz + (hashint4(g + 1) & 65535) * interval '1 second' AS resolved_at,
               (hashint4(g + 2) & 65535)::numeric / 100 AS cost, hashint4(g + 3) % 4 <> 0 AS resolved,
               abs(hashint4(g + 4)) % 11 AS score
        FROM generate_series(1, 300000) g""")
    conn.execute("ANALYZE big_complaints")
    query = ("SELECT team, avg_resolution_time(opened_at, resolved_at), complaint_resolution_cost(cost, resolved),"
             " nps(score), complaint_resolution_efficiency(opened_at, resolved_at, '60 days')"
             " FROM big_complaints GROUP BY 1 ORDER BY 1")
    assert_workers_combine(conn, query)
