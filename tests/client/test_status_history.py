"""Time in status and reopens from status histories (time_in_status, reopen_count, reopen_rate)
against independent plain SQL with lead() over random histories: rows in random order,
changes at the same instant, until given or not, with and without a business-hours schedule;
in serial and parallel plans, and with the requester-wait / agent-wait / on-hold split that
support teams report."""

import random
from datetime import datetime, time, timedelta, timezone

import psycopg
import pytest

from conftest import PARALLEL, SERIAL, set_plan

STATUSES = ["new", "open", "pending", "hold", "solved", "closed"]
SEEDS = range(5)
UNSOLVED = ["new", "open", "pending", "hold"]

# Independent reference: each change lasts until the next one of its ticket (lead() in the
# order of instant, then status bytewise); the last until `until` (or itself).
REFERENCE = """
WITH ordered AS (
    SELECT ticket, status, changed_at, until,
           lead(changed_at) OVER (PARTITION BY ticket ORDER BY changed_at, status COLLATE "C") AS next_at,
           lead(status) OVER (PARTITION BY ticket ORDER BY changed_at, status COLLATE "C") AS next_status
    FROM {table} WHERE status IS NOT NULL AND changed_at IS NOT NULL
)
SELECT ticket,
       coalesce(sum({span}) FILTER (WHERE status = ANY(%(counted)s)), interval '0') AS in_status,
       count(*) FILTER (WHERE status = ANY(%(solved)s) AND NOT next_status = ANY(%(solved)s)) AS reopens
FROM ordered GROUP BY ticket ORDER BY ticket
"""
CALENDAR = "coalesce(next_at, until, changed_at) - changed_at"
BUSINESS = "business_time(changed_at, coalesce(next_at, until, changed_at), 'desk')"


def histories(seed, tickets):
    rng = random.Random(seed)
    rows = []
    for t in range(tickets):
        at = datetime(2026, 3, 1, tzinfo=timezone.utc) + timedelta(minutes=rng.randrange(200_000))
        until = None if rng.random() < 0.3 else at + timedelta(days=rng.uniform(0, 90))
        n = rng.randint(1, 12)
        changes = []
        for _ in range(n):
            changes.append((rng.choice(STATUSES), at))
            if rng.random() < 0.85:  # some changes at the same instant
                at += timedelta(seconds=rng.randrange(1, 5 * 86400), microseconds=rng.randrange(10**6))
        if until is not None and until < at:
            until = at + timedelta(hours=rng.randrange(48))
        rng.shuffle(changes)
        for status, when in changes:
            rows.append((t, status, when, until))
        if rng.random() < 0.05:
            rows.append((t, None, at, until))  # skipped
    rng.shuffle(rows)
    return rows


@pytest.fixture(scope="module")
def tables(kpi_db):
    from conftest import conninfo
    with psycopg.connect(conninfo(kpi_db), autocommit=True) as c:
        c.execute("DELETE FROM kpi_schedule WHERE schedule = 'desk'")
        c.execute("INSERT INTO kpi_schedule VALUES ('desk', 'Europe/Berlin')")
        for d in range(1, 6):
            c.execute("INSERT INTO kpi_schedule_hours VALUES ('desk', %s, '08:00', '18:00')", [d])
        c.execute("INSERT INTO kpi_schedule_hours VALUES ('desk', 6, '22:00', '02:00')")
        c.execute("INSERT INTO kpi_holiday VALUES ('desk', '2026-04-06', 'Easter Monday'), ('desk', '2026-05-01', 'Labour Day')")
        for seed in SEEDS:
            c.execute(f"CREATE TABLE history_{seed} (ticket int, status text, changed_at timestamptz, until timestamptz)")
            with c.cursor().copy(f"COPY history_{seed} FROM STDIN") as copy:
                for row in histories(seed, 300 + 200 * seed):
                    copy.write_row(row)
            c.execute(f"ALTER TABLE history_{seed} SET (parallel_workers = 2)")
            c.execute(f"ANALYZE history_{seed}")
    return kpi_db


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("schedule", [None, "desk"])
def test_time_in_status_and_reopens_equal_the_lead_reference(conn, tables, seed, schedule):
    table = f"history_{seed}"
    counted = rng_statuses(seed)
    solved = ["solved", "closed"]
    span = BUSINESS if schedule else CALENDAR
    ref = conn.execute(REFERENCE.format(table=table, span=span), {"counted": counted, "solved": solved}).fetchall()
    extra = ", until, 'desk'" if schedule else ", until"
    ours_sql = f"""SELECT ticket, time_in_status(status, changed_at, %(counted)s::text[]{extra}),
                          reopen_count(status, changed_at, %(solved)s::text[])
                   FROM {table} GROUP BY ticket ORDER BY ticket"""
    for plan in (SERIAL, PARALLEL):
        set_plan(conn, plan)
        ours = conn.execute(ours_sql, {"counted": counted, "solved": solved}).fetchall()
        assert ours == ref
    set_plan(conn, SERIAL)
    # without until, the last status counts until its own change
    if not schedule:
        no_until = conn.execute(f"""SELECT ticket, time_in_status(status, changed_at, %(counted)s::text[])
                                    FROM {table} GROUP BY ticket ORDER BY ticket""", {"counted": counted}).fetchall()
        ref_no_until = conn.execute(REFERENCE.format(table=f"(SELECT ticket, status, changed_at, NULL::timestamptz AS until FROM {table}) x",
                                                     span=CALENDAR), {"counted": counted, "solved": solved}).fetchall()
        assert no_until == [r[:2] for r in ref_no_until]
    # the reopen rate over tickets: reopened at least once
    rate = conn.execute(f"""SELECT reopen_rate(n > 0), reopen_rate(reopen_summary(n > 0))
                            FROM (SELECT reopen_count(status, changed_at, ARRAY['solved', 'closed']) n
                                  FROM {table} GROUP BY ticket) t""").fetchone()
    expected = conn.execute(f"""SELECT count(*) FILTER (WHERE r > 0) * 100.0 / count(*) FROM (
        SELECT ticket, count(*) FILTER (WHERE status IN ('solved', 'closed') AND NOT next_status IN ('solved', 'closed')) r
        FROM (SELECT ticket, status, lead(status) OVER (PARTITION BY ticket ORDER BY changed_at, status COLLATE "C") next_status
              FROM {table} WHERE status IS NOT NULL) o GROUP BY ticket) t""").fetchone()[0]
    assert rate == (expected, expected)


def rng_statuses(seed):
    return [["new", "open", "hold"], ["pending"], ["hold"], ["open", "solved"], ["new"]][seed]


def test_requester_and_agent_wait_split_a_ticket_and_average_over_tickets(conn, tables):
    rows = conn.execute("""
        WITH per_ticket AS (
            SELECT ticket,
                   time_in_status(status, changed_at, ARRAY['new', 'open', 'hold'], until) AS requester_wait,
                   time_in_status(status, changed_at, ARRAY['pending'], until) AS agent_wait,
                   time_in_status(status, changed_at, ARRAY['hold'], until) AS on_hold,
                   time_in_status(status, changed_at, ARRAY['new', 'open', 'pending', 'hold', 'solved', 'closed'], until) AS total,
                   max(coalesce(until, changed_at)) - min(changed_at) AS lifetime
            FROM history_2 WHERE status IS NOT NULL GROUP BY ticket)
        SELECT bool_and(requester_wait + agent_wait <= total), bool_and(total = lifetime),
               avg_handling_time(requester_wait) = avg(requester_wait), count(*)
        FROM per_ticket""").fetchone()
    assert rows[:3] == (True, True, True) and rows[3] == 700
    # percentiles of per-ticket waits, through the sketches
    p = conn.execute("""
        SELECT percentile(handling_time_sketch(w), 0.9), percentile_disc(0.9) WITHIN GROUP (ORDER BY w)
        FROM (SELECT time_in_status(status, changed_at, ARRAY['pending'], until) w FROM history_2 GROUP BY ticket) t
        WHERE w > interval '0'""").fetchone()
    truth = p[1] // timedelta(microseconds=1)
    assert abs(p[0] // timedelta(microseconds=1) - truth) <= 0.01 * truth + 0.5


def test_status_history_state_io_and_errors(conn):
    text = conn.execute("""SELECT time_in_status_trans(time_in_status_trans(NULL, 'open', '2026-01-01 10:00+00', ARRAY['open'],
                                  '2026-01-02+00'), 'solved', '2026-01-01 12:00+00', ARRAY['open'], '2026-01-02+00')::text""").fetchone()[0]
    assert text == ('{"until_us":820627200000000,"schedule":null,"changes":[[820576800000000,"open",true],'
                    '[820584000000000,"solved",false]]}')
    assert conn.execute("SELECT time_in_status_final(%s::status_history)", [text]).fetchone()[0] == timedelta(hours=2)
    for sql, code, message in [
        ("SELECT time_in_status(s, t, NULL::text[]) FROM (VALUES ('open', now())) v(s, t)", "22004", "statuses is NULL"),
        ("SELECT time_in_status(s, t, ARRAY['open'], u) FROM (VALUES ('open', now(), now()), ('x', now(), now() + interval '1 s')) v(s, t, u)",
         "22023", "different \"until\""),
        ("SELECT time_in_status(s, t, ARRAY['open'], u) FROM (VALUES ('open', now(), now() - interval '1 day')) v(s, t, u)",
         "22023", "until is before"),
        ("SELECT time_in_status(s, t, ARRAY['open']) FROM (VALUES ('open', 'infinity'::timestamptz)) v(s, t)", "22008", "infinite"),
        ("""SELECT '{"until_us":null,"schedule":null,"changes":[[1,"open"]]}'::status_history""", "22P02", "invalid status_history"),
        # an empty schedule name (found by the fuzzer: it recursed without end); malformed
        # text is 22P02 since 0.5.1, an argument of the aggregate 22023
        ("""SELECT '{"until_us":null,"schedule":"","changes":[[1,"open",true]]}'::status_history""", "22P02", "schedule name is empty"),
        ("SELECT time_in_status(s, t, ARRAY['open'], NULL, '') FROM (VALUES ('open', now())) v(s, t)", "22023",
         "schedule name is empty"),
    ]:
        with pytest.raises(psycopg.Error) as e:
            conn.execute(sql)
        assert e.value.sqlstate == code and message in str(e.value), str(e.value)
        assert e.value.diag.message_hint
    # NULL status or instant: skipped; nothing left: NULL
    assert conn.execute("SELECT time_in_status(s, t, ARRAY['open']), reopen_count(s, t, ARRAY['solved']) "
                        "FROM (VALUES (NULL::text, now()), ('open', NULL)) v(s, t)").fetchone() == (None, None)
