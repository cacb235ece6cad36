"""Business hours: business_time() and the time KPIs with a schedule, against an independent
reference in Python (zoneinfo), on random schedules and spans in four time zones (one with a
30-minute daylight-saving shift, one without daylight saving), across DST changes,
holidays, overnight shifts, year ends and a leap day.

The reference reads the definition directly: an instant is working time when the wall clock
of the schedule's zone shows a time within the hours of its day, and that day is not a
holiday. It finds the instants where that can change (UTC offset changes, found by bisection
over zoneinfo, and every wall-clock hour boundary under each offset in force) and tests the
middle of each piece between them."""

import random
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import psycopg
import pytest

from conftest import PARALLEL, SERIAL, conninfo, set_plan, sqlstate_of

UTC = timezone.utc
ZONES = ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata"]
SEEDS = range(8)
DAY = timedelta(days=1)


def random_schedule(rng):
    """Weekly hours [(iso_weekday, starts, ends)] without overlaps, some overnight, some on
    the wall-clock times a DST change skips or repeats (01:00-03:00)."""
    rows, taken = [], []
    for weekday in range(1, 8):
        for _ in range(rng.choice([0, 1, 1, 2])):
            start = rng.choice([0, 60, 90, 120, 150, 480, 540, 780, 1260, 1320]) + rng.choice([0, 0, 15])
            length = rng.choice([60, 90, 240, 480, 600, 1440])
            week_start = (weekday - 1) * 1440 + start
            span = [(week_start, week_start + length)]
            if week_start + length > 7 * 1440:
                span = [(week_start, 7 * 1440), (0, week_start + length - 7 * 1440)]
            if start >= 1440 or any(a < d and c < b for a, b in span for c, d in taken):
                continue
            taken.extend(span)
            end = (start + length) % 1440
            rows.append((weekday, time(start // 60, start % 60), time(end // 60, end % 60)))
    return rows or [(1, time(9), time(17))]


def pieces(rows):
    """{weekday: [(from_minute, to_minute, valid_from, valid_until, next_day)]} of wall-clock
    time, overnight rows split (the part after midnight valid by the day before); a row
    without validity is valid on every day."""
    out = {d: [] for d in range(1, 8)}
    for weekday, starts, ends, *valid in rows:
        lo, hi = valid or (date.min, date.max)
        s, e = starts.hour * 60 + starts.minute, ends.hour * 60 + ends.minute
        if e > s:
            out[weekday].append((s, e, lo, hi, False))
        else:
            out[weekday].append((s, 1440, lo, hi, False))
            if e > 0:
                out[weekday % 7 + 1].append((0, e, lo, hi, True))
    return out


def working(instant, zone, by_day, holidays):
    local = instant.astimezone(zone)
    day = local.date()
    if day in holidays:
        return False
    m = local.hour * 60 + local.minute + local.second / 60 + local.microsecond / 6e7
    return any(a <= m < b and lo <= (day - DAY if nxt else day) < hi
               for a, b, lo, hi, nxt in by_day[local.isoweekday()])


def offset_changes(zone, a, b):
    """The instants in [a, b] where the zone's UTC offset changes, to the second."""
    changes, t = [], a - DAY
    while t < b + DAY:
        u = t + timedelta(hours=6)
        if t.astimezone(zone).utcoffset() != u.astimezone(zone).utcoffset():
            lo, hi = t, u
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                if mid.astimezone(zone).utcoffset() == lo.astimezone(zone).utcoffset():
                    lo = mid
                else:
                    hi = mid
            changes.append(hi.replace(microsecond=0) if hi.microsecond else hi)
        t = u
    return changes


def reference(a, b, zone, rows, holidays):
    """Business time from a to b (aware datetimes) under the schedule, by the definition."""
    by_day = pieces(rows)
    cuts = {a, b}
    offsets = {a.astimezone(zone).utcoffset()}
    for c in offset_changes(zone, a, b):
        if a < c < b:
            cuts.add(c)
        offsets.add(c.astimezone(zone).utcoffset())
        offsets.add((c - timedelta(seconds=1)).astimezone(zone).utcoffset())
    # every quarter-hour of wall-clock time, under every offset in force: the schedule's
    # boundaries are on quarter-hours
    d = (a - 2 * DAY).date()
    while d <= (b + 2 * DAY).date():
        for q in range(96):
            wall = datetime.combine(d, time()) + timedelta(minutes=15 * q)
            for off in offsets:
                t = (wall - off).replace(tzinfo=UTC)
                if a < t < b:
                    cuts.add(t)
        d += DAY
    cuts = sorted(cuts)
    total = timedelta(0)
    for x, y in zip(cuts, cuts[1:]):
        if working(x + (y - x) / 2, zone, by_day, holidays):
            total += y - x
    return total


def random_instant(rng, zone):
    """Near a DST change, a year end, the 2024 leap day, or anywhere in 2024-2027."""
    anchors = [datetime(2024, 2, 29, 12, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC),
               datetime(2026, 12, 31, 23, tzinfo=UTC)]
    for year in (2024, 2025, 2026):
        anchors += offset_changes(zone, datetime(year, 3, 1, tzinfo=UTC), datetime(year, 4, 15, tzinfo=UTC))
        anchors += offset_changes(zone, datetime(year, 9, 20, tzinfo=UTC), datetime(year, 11, 10, tzinfo=UTC))
    if rng.random() < 0.6:
        base = rng.choice(anchors)
        return base + timedelta(seconds=rng.randint(-3 * 86400, 3 * 86400), microseconds=rng.randrange(10**6))
    return datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(4 * 365 * 86400),
                                                        microseconds=rng.randrange(10**6))


@pytest.fixture
def schedules(conn):
    conn.execute("DELETE FROM kpi_schedule WHERE schedule <> '24/7'")
    yield conn
    conn.execute("DELETE FROM kpi_schedule WHERE schedule <> '24/7'")


def add_schedule(conn, name, zone, rows, holidays):
    conn.execute("INSERT INTO kpi_schedule VALUES (%s, %s)", [name, zone])
    for weekday, starts, ends in rows:
        conn.execute("INSERT INTO kpi_schedule_hours VALUES (%s, %s, %s, %s)", [name, weekday, starts, ends])
    for day in holidays:
        conn.execute("INSERT INTO kpi_holiday VALUES (%s, %s, 'holiday')", [name, day])


@pytest.mark.parametrize("zone_name", ZONES)
@pytest.mark.parametrize("seed", SEEDS)
def test_business_time_equals_the_zoneinfo_reference(schedules, zone_name, seed):
    conn = schedules
    rng = random.Random(f"{zone_name}-{seed}")
    zone = ZoneInfo(zone_name)
    rows = random_schedule(rng)
    holidays = {date(2024, 1, 1) + timedelta(days=rng.randrange(4 * 365)) for _ in range(40)}
    holidays |= {date(2024, 12, 25), date(2025, 1, 1), date(2024, 2, 29)}
    add_schedule(conn, "s", zone_name, rows, holidays)
    spans = []
    for _ in range(40):
        a = random_instant(rng, zone)
        length = timedelta(microseconds=int(1e6 * 10 ** rng.uniform(1, 7.3)))  # 10 s to ~7 months
        spans.append((a, a + length))
    spans.append((datetime(2024, 2, 28, tzinfo=UTC), datetime(2024, 3, 2, tzinfo=UTC)))
    spans.append((datetime(2024, 12, 30, tzinfo=UTC), datetime(2025, 1, 3, tzinfo=UTC)))
    conn.execute("CREATE TEMP TABLE spans (id int, a timestamptz, b timestamptz)")
    try:
        with conn.cursor().copy("COPY spans FROM STDIN") as copy:
            for i, (a, b) in enumerate(spans):
                copy.write_row((i, a, b))
        ours = conn.execute("SELECT id, business_time(a, b, 's') FROM spans ORDER BY id").fetchall()
        for (i, got), (a, b) in zip(ours, spans):
            assert got == reference(a, b, zone, rows, holidays), (zone_name, rows, a, b)
        # the averages, medians and shares with the schedule equal the same spans' plain ones
        ref = conn.execute("""
            SELECT avg(business_time(a, b, 's')), percentile_disc(0.5) WITHIN GROUP (ORDER BY business_time(a, b, 's')),
                   count(*) FILTER (WHERE business_time(a, b, 's') <= interval '8 hours') * 100.0 / count(*)
            FROM spans""").fetchone()
        got = conn.execute("""
            SELECT avg_resolution_time(a, b, 's'), median_resolution_time(a, b, 's'),
                   sla_compliance_rate(a, b, interval '8 hours', 's'), avg_first_response_time(a, b, 's'),
                   avg_handling_time(a, b, 's'), complaint_resolution_efficiency(a, b, interval '8 hours', 's')
            FROM spans""").fetchone()
        assert abs(got[0] - ref[0]) <= timedelta(microseconds=1), (got, ref)
        assert got[3] == got[4] == got[0]
        truth = ref[1] // timedelta(microseconds=1)
        assert abs(got[1] // timedelta(microseconds=1) - truth) <= 0.01 * truth + 0.5
        assert got[2] == got[5] == ref[2]
    finally:
        conn.execute("DROP TABLE spans")


@pytest.mark.parametrize("zone_name", ["Europe/Berlin", "America/New_York"])
@pytest.mark.parametrize("seed", range(4))
def test_hours_that_change_at_a_date_and_holidays_of_several_days(schedules, zone_name, seed):
    """Two sets of weekly hours, the first valid until a day, the second from it (their rows
    may overlap in the week: they are never valid on the same day), and holidays of several
    days (kpi_holiday.last_day), against the zoneinfo reference, by the day each row starts."""
    conn = schedules
    rng = random.Random(f"valid-{zone_name}-{seed}")
    zone = ZoneInfo(zone_name)
    cut = date(2024, 3, 1) + timedelta(days=rng.randrange(600))
    rows = [r + (date.min, cut) for r in random_schedule(rng)] + [r + (cut, date.max) for r in random_schedule(rng)]
    ranges = []
    for _ in range(12):
        first = date(2024, 1, 1) + timedelta(days=rng.randrange(3 * 365))
        ranges.append((first, first + timedelta(days=rng.choice([0, 1, 2, 6, 13]))))
    ranges = [r for i, r in enumerate(ranges) if all(r[0] != q[0] for q in ranges[:i])]
    holidays = {a + timedelta(days=k) for a, b in ranges for k in range((b - a).days + 1)}
    conn.execute("INSERT INTO kpi_schedule VALUES ('v', %s)", [zone_name])
    for weekday, starts, ends, lo, hi in rows:
        conn.execute("INSERT INTO kpi_schedule_hours VALUES ('v', %s, %s, %s, %s, %s)",
                     [weekday, starts, ends, "-infinity" if lo == date.min else lo,
                      "infinity" if hi == date.max else hi])
    for a, b in ranges:
        conn.execute("INSERT INTO kpi_holiday VALUES ('v', %s, 'holidays', %s)", [a, None if a == b else b])
    spans = []
    for _ in range(30):
        a = random_instant(rng, zone)
        spans.append((a, a + timedelta(microseconds=int(1e6 * 10 ** rng.uniform(3, 7.3)))))
    midnight = datetime.combine(cut, time(), zone)
    spans += [(midnight - DAY, midnight + DAY), (midnight - 3 * DAY, midnight + 5 * DAY)]
    by_day = pieces(rows)
    assert any(p[3] != date.max for ps in by_day.values() for p in ps)
    for a, b in spans:
        got = conn.execute("SELECT business_time(%s, %s, 'v')", [a, b]).fetchone()[0]
        assert got == reference(a, b, zone, rows, holidays), (zone_name, cut, a, b)
    # rows valid on a day in common may not overlap; a row is valid on at least one day
    conn.execute("INSERT INTO kpi_schedule VALUES ('w', 'UTC')")
    conn.execute("INSERT INTO kpi_schedule_hours VALUES ('w', 1, '00:00', '00:00', '2020-01-06', '2020-01-07'),"
                 " ('w', 1, '10:00', '11:00', '2020-01-06', '2020-01-13')")
    # valid from the day the row before stops: no overlap
    conn.execute("INSERT INTO kpi_schedule_hours (schedule, iso_weekday, starts, ends, valid_from)"
                 " VALUES ('w', 1, '10:00', '12:00', '2020-01-13')")
    err = sqlstate_of(conn, "SELECT business_time('2020-01-01', '2020-02-01', 'w')")
    assert err[0] == "22023" and "has overlapping hours: Monday 00:00-00:00 (valid 2020-01-06 to 2020-01-07)" \
        " and Monday 10:00-11:00 (valid 2020-01-06 to 2020-01-13)" in err[1], err
    for sql in ["INSERT INTO kpi_schedule_hours VALUES ('v', 2, '10:00', '11:00', '2020-01-06', '2020-01-06')",
                "INSERT INTO kpi_holiday VALUES ('v', '2030-01-02', 'x', '2030-01-01')"]:
        assert sqlstate_of(conn, sql)[0] == "23514", sql


def test_the_shipped_24_7_schedule_is_calendar_time(conn):
    rows = conn.execute("""
        SELECT business_time(a, a + d, '24/7') = d
        FROM generate_series(timestamptz '2024-02-27', '2024-03-05', interval '7 hours 13 minutes') a,
             unnest(ARRAY[interval '0', '1 microsecond', '1 day', '400 days']) d""").fetchall()
    assert rows and all(r[0] for r in rows)
    assert conn.execute("""SELECT avg_resolution_time(a, a + interval '1 hour' * (g % 50), '24/7')
                                  = avg_resolution_time(a, a + interval '1 hour' * (g % 50))
                           FROM generate_series(1, 1000) g, LATERAL (SELECT timestamptz '2026-01-01' + g * interval '1 hour') x(a)
                           """).fetchone() == (True,)


def test_aggregates_with_a_schedule_are_parallel_safe_and_roll_up(schedules):
    conn = schedules
    add_schedule(conn, "office", "Europe/Berlin",
                 [(d, time(9), time(17)) for d in range(1, 6)], {date(2026, 12, 24), date(2026, 12, 25)})
    conn.execute("DROP TABLE IF EXISTS tickets_bh")
    conn.execute("""CREATE TABLE tickets_bh AS
        SELECT g, timestamptz '2026-10-01' + (hashint4(g) & 65535) * interval '5 minutes' AS opened_at,
               timestamptz '2026-10-01' + (hashint4(g) & 65535) * interval '5 minutes'
                   + (hashint4(g + 1) & 4095) * interval '3 minutes' AS answered_at
        FROM generate_series(1, 60000) g""")
    conn.execute("ALTER TABLE tickets_bh SET (parallel_workers = 2)")
    query = """SELECT avg_first_response_time(opened_at, answered_at, 'office'),
                      first_response_sketch(opened_at, answered_at, 'office')::text,
                      sla_compliance_rate(opened_at, answered_at, interval '4 hours', 'office')
               FROM tickets_bh"""
    set_plan(conn, SERIAL)
    serial = conn.execute(query).fetchone()
    set_plan(conn, PARALLEL)
    plan = "\n".join(r[0] for r in conn.execute("EXPLAIN (COSTS OFF) " + query))
    parallel = conn.execute(query).fetchone()
    set_plan(conn, SERIAL)
    assert "Partial Aggregate" in plan, plan
    assert parallel == serial
    reference = conn.execute("""SELECT avg(business_time(opened_at, answered_at, 'office')),
        count(*) FILTER (WHERE business_time(opened_at, answered_at, 'office') <= interval '4 hours') * 100.0 / count(*)
        FROM tickets_bh""").fetchone()
    assert abs(serial[0] - reference[0]) <= timedelta(microseconds=1)
    assert serial[2] == reference[1]
    daily = conn.execute("""SELECT rollup(s)::text FROM (SELECT first_response_sketch(opened_at, answered_at, 'office') s
                            FROM tickets_bh GROUP BY date_trunc('day', opened_at)) d""").fetchone()[0]
    assert daily == serial[1]


ERRORS = [
    ("SELECT business_time(now(), now() + interval '1 hour', 'nope')", "22023", "unknown schedule \"nope\""),
    ("SELECT business_time(now(), now() - interval '1 hour', '24/7')", "22023", "is before start"),
    ("SELECT business_time(now(), 'infinity', '24/7')", "22008", "cannot measure"),
    ("SELECT avg_resolution_time(now(), now(), NULL::text)", "22004", "schedule is NULL"),
    ("INSERT INTO kpi_schedule VALUES ('x', 'Mars/Olympus')", "22023", "unknown time zone"),
    ("SELECT business_time('2000-01-01', '2200-01-01', '24/7')", "22003", "more than 100 years"),
]


@pytest.mark.parametrize("sql,sqlstate,message", ERRORS)
def test_errors_say_what_is_wrong(conn, sql, sqlstate, message):
    with pytest.raises(psycopg.Error) as e:
        conn.execute(sql)
    assert e.value.sqlstate == sqlstate and message in str(e.value), str(e.value)
    assert e.value.diag.message_hint


def test_schedule_errors_name_the_rows(schedules):
    conn = schedules
    add_schedule(conn, "bad", "UTC", [(1, time(9), time(17)), (1, time(16), time(18))], set())
    add_schedule(conn, "empty", "UTC", [], set())
    with pytest.raises(psycopg.Error) as e:
        conn.execute("SELECT business_time(now(), now(), 'bad')")
    assert e.value.sqlstate == "22023"
    assert "overlapping hours: Monday 09:00-17:00 and Monday 16:00-18:00" in str(e.value)
    with pytest.raises(psycopg.Error) as e:
        conn.execute("SELECT avg_first_response_time(now(), now(), 'empty')")
    assert "has no working hours" in str(e.value)


def test_schedules_survive_dump_and_restore(admin, new_database, tmp_path):
    import subprocess
    from conftest import PG_BIN
    db = new_database()
    with psycopg.connect(conninfo(db), autocommit=True) as c:
        add_schedule(c, "office", "Europe/Berlin", [(d, time(9), time(17)) for d in range(1, 6)], {date(2026, 12, 24)})
        before = c.execute("SELECT business_time('2026-12-21', '2026-12-29', 'office')").fetchone()[0]
        # SLA policies in that schedule and a status of the user's: restored after the
        # schedule they refer to
        c.execute("INSERT INTO kpi_sla_policy VALUES ('gold', 'first_reply_time', 'high', '2 hours', 'office'), "
                  "('gold', 'next_reply_time', 'high', '1 hour', NULL)")
        c.execute("INSERT INTO kpi_sla_status VALUES ('waiting on vendor', false, false, false, true)")
        policies = c.execute("SELECT * FROM kpi_sla_policy ORDER BY 1, 2, 3").fetchall()
        statuses = c.execute("SELECT * FROM kpi_sla_status ORDER BY 1").fetchall()
    dump = tmp_path / "bh.dump"
    subprocess.run([f"{PG_BIN}/pg_dump", "-Fc", "-f", str(dump), conninfo(db)], check=True)
    restored = new_database(extension=False)
    subprocess.run([f"{PG_BIN}/pg_restore", "--exit-on-error", "-d", conninfo(restored), str(dump)], check=True)
    with psycopg.connect(conninfo(restored), autocommit=True) as c:
        assert c.execute("SELECT business_time('2026-12-21', '2026-12-29', 'office')").fetchone()[0] == before
        assert before == timedelta(hours=8 * 5)
        assert c.execute("SELECT count(*) FROM kpi_schedule_hours WHERE schedule = '24/7'").fetchone()[0] == 7
        assert c.execute("SELECT * FROM kpi_sla_policy ORDER BY 1, 2, 3").fetchall() == policies
        assert c.execute("SELECT * FROM kpi_sla_status ORDER BY 1").fetchall() == statuses
        assert len(statuses) == 7 and len(policies) == 2


def test_distributing_schedules_is_for_citus(conn):
    """kpi_distribute_schedules() makes reference tables on a Citus cluster (test_citus.py);
    without Citus there is nothing to distribute, and the local tables stay writable."""
    with pytest.raises(psycopg.errors.FeatureNotSupported, match="Citus") as refused:
        conn.execute("SELECT kpi_distribute_schedules()")
    assert "nothing to distribute" in refused.value.diag.message_hint
    conn.execute("INSERT INTO kpi_holiday VALUES ('24/7', '2031-01-01', 'test') ")
    conn.execute("DELETE FROM kpi_holiday WHERE day = '2031-01-01'")
