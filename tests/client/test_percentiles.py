"""Percentiles of the time KPIs (median_*_time, *_sketch, percentile, rollup) against the
plain SQL a user would write, percentile_disc, on random heavy-tailed spans (zero, a second to
half a year) over many seeds: within the 1% relative error, the smallest and largest span
exact, and the same state in serial, parallel, hashed, sorted and spilled plans; rollup of
daily sketches equals the sketch of the whole, so the month's percentiles are the same."""

import random
from datetime import datetime, timedelta, timezone

import pytest

from conftest import PARALLEL, SERIAL, assert_workers_combine, set_plan

SEEDS = range(6)
FRACTIONS = [0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0]
START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def spans(seed, n):
    """(grp, day, opened_at, resolved_at): log-uniform spans from a second to half a year,
    with zeros, exact repeats, pending cases (NULL end) and skipped rows (NULL start)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        opened = START + timedelta(seconds=rng.randrange(90 * 86400), microseconds=rng.randrange(10**6))
        kind = rng.random()
        if kind < 0.05:
            span = timedelta(0)
        elif kind < 0.10:
            span = timedelta(hours=4)
        else:
            span = timedelta(microseconds=int(10**6 * (1.6e7 ** rng.random())))
        resolved = opened + span
        if rng.random() < 0.03:
            resolved = None
        if rng.random() < 0.01:
            opened = None
        rows.append((rng.randrange(1 + seed * 7), i % 30, opened, resolved))
    return rows


@pytest.fixture(scope="module")
def tables(kpi_db):
    import psycopg
    from conftest import conninfo
    with psycopg.connect(conninfo(kpi_db), autocommit=True) as c:
        for seed in SEEDS:
            c.execute(f"CREATE TABLE spans_{seed} (grp int, day int, opened_at timestamptz, resolved_at timestamptz)")
            with c.cursor().copy(f"COPY spans_{seed} FROM STDIN") as copy:
                for row in spans(seed, 3000 + 4000 * seed):
                    copy.write_row(row)
            c.execute(f"ALTER TABLE spans_{seed} SET (parallel_workers = 2)")
            c.execute(f"ANALYZE spans_{seed}")
    return kpi_db


# The violations of the error bound, per group and fraction: the sketch's percentile against
# percentile_disc over the same completed spans (an interval to microseconds by epoch).
BOUND = """
WITH ours AS (
    SELECT grp, resolution_time_sketch(opened_at, resolved_at) AS s FROM spans_{seed} GROUP BY grp
), truth AS (
    SELECT grp, f, percentile_disc(f) WITHIN GROUP (ORDER BY resolved_at - opened_at) AS p
    FROM spans_{seed}, unnest(%(fractions)s::float8[]) f
    WHERE opened_at IS NOT NULL AND resolved_at IS NOT NULL GROUP BY grp, f
)
SELECT t.grp, t.f, t.p, percentile(o.s, t.f) AS ours
FROM truth t JOIN ours o USING (grp)
ORDER BY 1, 2
"""


def micros(interval):
    return interval // timedelta(microseconds=1)


@pytest.mark.parametrize("seed", SEEDS)
def test_percentiles_are_within_one_percent_of_percentile_disc(conn, tables, seed):
    rows = conn.execute(BOUND.format(seed=seed), {"fractions": FRACTIONS}).fetchall()
    assert len(rows) >= len(FRACTIONS)
    for grp, f, truth, ours in rows:
        t, o = micros(truth), micros(ours)
        if f in (0, 1):
            assert o == t, (grp, f, truth, ours)
        assert abs(o - t) <= 0.01 * t + 0.5, (grp, f, truth, ours)
    # the direct median aggregate is the sketch's median; the counts and average are exact
    check = conn.execute(f"""
        SELECT bool_and(m IS NOT DISTINCT FROM percentile(s, 0.5)), bool_and(pending_count(s) = pending),
               bool_and(completed_count(s) = completed), bool_and(avg_resolution_time(s) IS NOT DISTINCT FROM a)
        FROM (SELECT grp, median_resolution_time(opened_at, resolved_at) AS m,
                     resolution_time_sketch(opened_at, resolved_at) AS s,
                     avg_resolution_time(opened_at, resolved_at) AS a,
                     count(*) FILTER (WHERE opened_at IS NOT NULL AND resolved_at IS NULL) AS pending,
                     count(*) FILTER (WHERE opened_at IS NOT NULL AND resolved_at IS NOT NULL) AS completed
              FROM spans_{seed} GROUP BY grp) g""").fetchone()
    assert check == (True, True, True, True)


@pytest.mark.parametrize("seed", SEEDS)
def test_daily_sketches_roll_up_to_the_sketch_of_the_whole_in_serial_and_parallel_plans(conn, tables, seed):
    whole = f"SELECT grp, resolution_time_sketch(opened_at, resolved_at)::text FROM spans_{seed} GROUP BY grp ORDER BY grp"
    rolled = f"""SELECT grp, rollup(s)::text FROM (SELECT grp, day, resolution_time_sketch(opened_at, resolved_at) AS s
                 FROM spans_{seed} GROUP BY grp, day) d GROUP BY grp ORDER BY grp"""
    set_plan(conn, SERIAL)
    expected = conn.execute(whole).fetchall()
    assert conn.execute(rolled).fetchall() == expected
    set_plan(conn, PARALLEL)
    assert conn.execute(whole).fetchall() == expected
    assert conn.execute(rolled).fetchall() == expected
    set_plan(conn, SERIAL)
    # the month's p90 from the rollup is the direct aggregate's
    assert conn.execute(f"""SELECT percentile(rollup(s), 0.9) = (SELECT percentile(resolution_time_sketch(opened_at,
        resolved_at), 0.9) FROM spans_{seed}) FROM (SELECT resolution_time_sketch(opened_at, resolved_at) AS s
        FROM spans_{seed} GROUP BY day) d""").fetchone() == (True,)


def test_parallel_workers_really_combine_sketches(conn, tables):
    assert_workers_combine(conn, "SELECT median_resolution_time(opened_at, resolved_at), "
                                 "resolution_time_sketch(opened_at, resolved_at)::text FROM spans_5")


@pytest.mark.parametrize("work_mem", ["64kB", "4MB"])
def test_many_groups_are_the_same_hashed_sorted_and_spilled(conn, work_mem):
    conn.execute("DROP TABLE IF EXISTS many_spans")
    conn.execute("""CREATE TABLE many_spans AS
        SELECT g % 20000 AS grp, timestamptz '2026-01-01' + g * interval '1 second' AS opened_at,
               timestamptz '2026-01-01' + g * interval '1 second'
                   + (abs(hashint4(g)) % 100000000) * interval '1 millisecond' * (1 + g % 3) AS resolved_at
        FROM generate_series(1, 200000) g""")
    query = ("SELECT grp, median_first_response_time(opened_at, resolved_at), "
             "md5(first_response_sketch(opened_at, resolved_at)::text) FROM many_spans GROUP BY grp")
    conn.execute(f"SET work_mem = '{work_mem}'")
    conn.execute("SET enable_hashagg = off")
    sorted_rows = sorted(conn.execute(query).fetchall())
    conn.execute("SET enable_hashagg = on")
    conn.execute("SET enable_sort = off")
    plan = "\n".join(r[0] for r in conn.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + query))
    hashed_rows = sorted(conn.execute(query).fetchall())
    conn.execute("RESET enable_sort")
    conn.execute("RESET work_mem")
    assert "HashAggregate" in plan, plan
    if work_mem == "64kB":
        assert "Disk Usage" in plan or "Batches: 1 " not in plan, plan
    assert len(sorted_rows) == 20000
    assert hashed_rows == sorted_rows
    # and every group's median is within 1% of percentile_disc
    bad = conn.execute("""
        SELECT count(*) FROM (
            SELECT grp, median_first_response_time(opened_at, resolved_at) AS m,
                   percentile_disc(0.5) WITHIN GROUP (ORDER BY resolved_at - opened_at) AS t
            FROM many_spans GROUP BY grp) g
        WHERE abs(extract(epoch FROM m - t)) > 0.01 * extract(epoch FROM t) + 0.000001""").fetchone()[0]
    assert bad == 0


def test_running_median_in_a_window_equals_recomputation(conn, tables):
    rows = conn.execute("""
        SELECT median_resolution_time(opened_at, resolved_at) OVER (ORDER BY day, ctid ROWS UNBOUNDED PRECEDING),
               (SELECT median_resolution_time(s.opened_at, s.resolved_at) FROM spans_1 s
                WHERE (s.day, s.ctid) <= (o.day, o.ctid))
        FROM spans_1 o ORDER BY day, ctid LIMIT 300""").fetchall()
    assert rows and all(a == b for a, b in rows)
    # a moving frame restarts the aggregate: the same as recomputing each frame
    moving = conn.execute("""
        WITH d AS (SELECT day, resolution_time_sketch(opened_at, resolved_at) AS s FROM spans_1 GROUP BY day)
        SELECT day, percentile(rollup(s) OVER (ORDER BY day ROWS BETWEEN 6 PRECEDING AND CURRENT ROW), 0.9),
               (SELECT percentile(resolution_time_sketch(opened_at, resolved_at), 0.9) FROM spans_1 x
                WHERE x.day BETWEEN d.day - 6 AND d.day)
        FROM d ORDER BY day""").fetchall()
    assert len(moving) == 30 and all(a == b for _, a, b in moving)


def test_timestamp_and_interval_signatures_match_percentile_disc(conn, tables):
    rows = conn.execute("""
        SELECT grp, median_handling_time(opened_at AT TIME ZONE 'UTC', resolved_at AT TIME ZONE 'UTC'),
               median_first_response_time(opened_at AT TIME ZONE 'UTC', resolved_at AT TIME ZONE 'UTC'),
               median_handling_time(resolved_at - opened_at) FILTER (WHERE opened_at IS NOT NULL),
               percentile_disc(0.5) WITHIN GROUP (ORDER BY resolved_at - opened_at)
        FROM spans_3 GROUP BY grp ORDER BY grp""").fetchall()
    assert len(rows) == 22
    for grp, a, b, c, truth in rows:
        assert a == b == c, grp
        assert abs(micros(a) - micros(truth)) <= 0.01 * micros(truth) + 0.5, (grp, a, truth)


def test_a_sketch_stays_within_its_size_bound(conn):
    def size(values):
        return conn.execute(f"SELECT pg_column_size(resolution_time_sketch(o, r)) FROM (VALUES {values}) v(o, r)"
                            ).fetchone()[0]
    minute_month = size("(timestamp '2000-01-01', timestamp '2000-01-01 00:01'), ('2000-01-01', '2000-01-31')")
    second_year = size("(timestamp '2000-01-01', timestamp '2000-01-01 00:00:01'), ('2000-01-01', '2001-01-01')")
    # from a microsecond to the longest span a sketch holds (2^63 - 1 µs, 292,000 years)
    full = size("(timestamp '2000-01-01', timestamp '2000-01-01 00:00:00.000001'), ('2000-01-01', '290000-01-01')")
    assert minute_month <= 4800 and second_year <= 7400, (minute_month, second_year)
    assert full <= 4 + 64 + 8 * 2185, full
